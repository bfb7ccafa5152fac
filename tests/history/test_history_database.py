"""Where the history lives: the default URL, URL handling and the SQLite settings."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from amc_magic.errors import ConfigurationError
from amc_magic.history import DB_URL_ENV, HistoryStore, create_engine_for_url, default_database_url


def test_the_default_is_a_sqlite_file_in_the_jupyter_data_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(DB_URL_ENV, raising=False)
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter"))
    assert default_database_url() == f"sqlite:///{tmp_path / 'jupyter' / 'amc_magic' / 'history.sqlite'}"

    store = HistoryStore.from_url()
    store.close()
    assert (tmp_path / "jupyter" / "amc_magic" / "history.sqlite").is_file()


def test_amc_magic_db_url_chooses_the_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    chosen = tmp_path / "team" / "shared.sqlite"
    monkeypatch.setenv(DB_URL_ENV, f"  sqlite:///{chosen}  ")
    assert default_database_url() == f"sqlite:///{chosen}"

    store = HistoryStore.from_url()
    store.close()
    assert chosen.is_file()


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "POSTGRESQL"])
def test_postgresql_urls_use_psycopg_3(scheme: str) -> None:
    engine = create_engine_for_url(f"{scheme}://me@db.test/amc")
    assert engine.url.drivername == "postgresql+psycopg" and engine.dialect.driver == "psycopg"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a valid SQLAlchemy URL"),
        ("mysql://me:s3cret-pw@db.test/amc", "neither SQLite nor PostgreSQL"),
        ("postgresql+nosuchdriver://me:s3cret-pw@db.test/amc", "No driver"),
    ],
)
def test_unusable_urls_are_configuration_errors_that_hide_passwords(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as error:
        create_engine_for_url(url)
    assert "s3cret-pw" not in str(error.value) and DB_URL_ENV in str(error.value)


def test_an_unreachable_database_is_a_configuration_error_that_hides_the_password() -> None:
    with pytest.raises(ConfigurationError, match="Cannot open the history database") as error:
        HistoryStore.from_url("postgresql://me:s3cret-pw@127.0.0.1:1/amc?connect_timeout=2")
    assert "s3cret-pw" not in str(error.value)


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    engine = create_engine_for_url(f"sqlite:///{tmp_path / 'new' / 'dir' / 'h.sqlite'}")
    with engine.connect() as conn:
        settings = [
            conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("journal_mode", "busy_timeout", "foreign_keys")
        ]
    engine.dispose()
    assert settings == ["wal", 30_000, 1]


def test_an_in_memory_sqlite_database_works(clock) -> None:
    store = HistoryStore(create_engine_for_url("sqlite://"), clock=clock)
    store.save_workflow("wf_x", name="x", sql_template="SELECT 1")
    assert store.find_workflow("x").workflow_id == "wf_x"


def test_only_sqlite_and_postgresql_engines_are_accepted() -> None:
    engine = sa.create_engine("mysql://me@db.test/amc", module=SimpleNamespace(paramstyle="format"))
    with pytest.raises(ConfigurationError, match="neither SQLite nor PostgreSQL"):
        HistoryStore(engine)


def test_an_in_memory_database_is_the_same_from_every_thread():
    import threading

    from amc_magic.history import HistoryStore

    store = HistoryStore.from_url("sqlite://")
    store.save_account("ENTITYONE", "ATVPDKIKX0DER")
    seen = []
    worker = threading.Thread(target=lambda: seen.append([i.instance_id for i in store.list_instances()]))
    worker.start()
    worker.join(10)
    assert seen == [[]]  # the tables exist in the other thread too (no "no such table")
    store.close()


def test_a_read_only_database_is_one_clear_error(tmp_path):
    from amc_magic.errors import ConfigurationError
    from amc_magic.history import HistoryStore

    path = tmp_path / "history.sqlite"
    HistoryStore.from_url(f"sqlite:///{path}").close()
    read_only = HistoryStore.from_url(f"sqlite:///file:{path}?mode=ro&uri=true")
    assert read_only.list_instances() == []  # reading still works
    with pytest.raises(ConfigurationError, match="refused to write") as info:
        read_only.save_account("ENTITYONE", "ATVPDKIKX0DER")
    assert "AMC_MAGIC_DB_URL" in info.value.hint
    read_only.close()
