"""Schema versions: a fresh database, the newest shape, and an upgrade from version 1 with data."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa

from amc_magic.history import HistoryStore, applied_migrations, migrate, pending_migrations
from amc_magic.history.results import frame_to_parquet
from amc_magic.history.tables import metadata
from amc_magic.history.versions import MIGRATIONS
from history_support import FakeClock, claim_args

ALL_STEPS = [step.name for step in MIGRATIONS]


def test_a_new_database_gets_every_step_once(engine: sa.Engine) -> None:
    assert pending_migrations(engine) == ALL_STEPS
    assert migrate(engine) == ALL_STEPS
    assert applied_migrations(engine) == ALL_STEPS and pending_migrations(engine) == []
    assert migrate(engine) == []


def test_the_migrated_schema_is_the_one_the_queries_use(engine: sa.Engine) -> None:
    migrate(engine)
    inspector = sa.inspect(engine)
    for table in metadata.sorted_tables:
        assert {c["name"] for c in inspector.get_columns(table.name)} == set(table.columns.keys()), table.name
        indexes = {(i["name"], bool(i["unique"])) for i in inspector.get_indexes(table.name)}
        assert {(i.name, i.unique) for i in table.indexes} <= indexes, table.name


def test_version_1_databases_are_upgraded_with_their_rows(engine: sa.Engine, clock: FakeClock) -> None:
    assert migrate(engine, upto="0001_initial") == ["0001_initial"]
    at = "2026-02-01 08:00:00.000000" if engine.dialect.name == "sqlite" else "2026-02-01T08:00:00Z"
    parquet = frame_to_parquet(pd.DataFrame({"reach": pd.array([7, None], dtype="Int64")}))
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO amc_accounts (entity_id, marketplace_id, name, created_at, updated_at)"
                " VALUES ('ENTITY1', 'ATVPDKIKX0DER', 'Brand', :at, :at)"
            ),
            {"at": at},
        )
        conn.execute(
            sa.text(
                "INSERT INTO amc_instances (instance_id, entity_id, marketplace_id, api_url, instance_type,"
                " created_at, updated_at) VALUES ('amcold', 'ENTITY1', 'ATVPDKIKX0DER', 'https://x.test',"
                " 'STANDARD', :at, :at)"
            ),
            {"at": at},
        )
        conn.execute(
            sa.text(
                "INSERT INTO amc_executions (id, amc_execution_id, instance_id, sql_template, rendered_sql,"
                " parameter_values, time_zone, window_type, status, created_at, submitted_at, finished_at, row_count)"
                " VALUES ('00000000-0000-4000-8000-000000000001', 'amc-old', 'amcold', 'SELECT 1', 'SELECT 1',"
                " '{\"x\": 1}', 'UTC', 'MOST_RECENT_DAY', 'SUCCEEDED', :at, :at, :at, 2)"
            ),
            {"at": at},
        )
        conn.execute(
            sa.text(
                "INSERT INTO amc_results (execution_id, parquet, byte_size, created_at)"
                " VALUES ('00000000-0000-4000-8000-000000000001', :parquet, :size, :at)"
            ),
            {"parquet": parquet, "size": len(parquet), "at": at},
        )

    store = HistoryStore(engine, clock=clock)

    assert applied_migrations(engine) == ALL_STEPS
    old = store.get_execution("amc-old")
    assert old.submitted_at == datetime(2026, 2, 1, 8, tzinfo=UTC) and old.row_count == 2
    assert old.parameter_values == {"x": 1} and old.options == {} and old.poll_count == 0
    assert old.cache_key is None and old.bytes_downloaded is None
    assert store.load_result(old.id)["reach"].tolist() == [7, pd.NA]
    assert store.get_instance("amcold").entity_id == "ENTITY1"
    assert store.history_frame()["amc_id"].tolist() == ["amc-old"]
    record, created = store.claim_execution(**claim_args())
    assert created and store.find_live(record.cache_key) == record
