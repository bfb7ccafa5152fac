"""Large cached results: the database keeps the bytes, each machine a checksummed Parquet copy."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from amc_magic.history import HistoryStore
from amc_magic.history import tables as t
from amc_magic.history import queries
from amc_magic.history.result_files import (
    LOCAL_COPY_MIN_BYTES,
    copies_directory,
    keep_copy,
    prune_copies,
    wait_for_copies,
)


def large_frame(rows: int = 200_000) -> pd.DataFrame:
    """A result whose Parquet is over LOCAL_COPY_MIN_BYTES (random doubles do not compress)."""
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "campaign": pd.array([f"c{n % 50}" for n in range(rows)], dtype="string"),
            "impressions": pd.array(rng.integers(0, 1000, rows), dtype="Int64"),
            "spend": rng.random(rows),
            "day": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 90, rows), unit="D"),
        }
    )


@pytest.fixture
def stored(store: HistoryStore, claim) -> tuple[str, pd.DataFrame]:
    record = claim()
    frame = large_frame()
    store.store_result(record.id, frame, output_columns=[], bytes_downloaded=0)
    return record.id, frame


def stored_row(store: HistoryStore, local_id: str) -> sa.Row:
    with store.engine.connect() as conn:
        query = sa.select(t.results.c.parquet, t.results.c.sha256).where(t.results.c.execution_id == local_id)
        return conn.execute(query).one()


def the_copy(store: HistoryStore, local_id: str):
    return copies_directory() / f"{stored_row(store, local_id).sha256}.parquet"


def test_a_large_result_is_kept_in_the_database_and_copied_under_its_checksum(store, stored) -> None:
    local_id, frame = stored
    row = stored_row(store, local_id)
    assert len(row.parquet) >= LOCAL_COPY_MIN_BYTES
    assert row.sha256 == hashlib.sha256(row.parquet).hexdigest()
    assert the_copy(store, local_id).read_bytes() == bytes(row.parquet)
    pd.testing.assert_frame_equal(store.load_result(local_id), frame)


def test_a_small_result_gets_no_copy(store: HistoryStore, claim) -> None:
    record = claim()
    store.store_result(record.id, large_frame(10), output_columns=[], bytes_downloaded=0)
    assert stored_row(store, record.id).sha256 is not None
    assert not copies_directory().exists() or not any(copies_directory().iterdir())
    pd.testing.assert_frame_equal(store.load_result(record.id), large_frame(10))


def flip_a_byte(path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda path: path.unlink(), id="missing"),
        pytest.param(lambda path: path.write_bytes(path.read_bytes()[:-100]), id="truncated"),
        pytest.param(flip_a_byte, id="same-size"),
        pytest.param(lambda path: path.write_bytes(b"PAR1" + b"\0" * (path.stat().st_size - 4)), id="garbage"),
    ],
)
def test_a_damaged_copy_is_a_miss_of_the_copy_not_of_the_cache(store, stored, damage) -> None:
    local_id, frame = stored
    path = the_copy(store, local_id)
    damage(path)
    pd.testing.assert_frame_equal(store.load_result(local_id), frame)  # from the database
    wait_for_copies()
    assert path.read_bytes() == bytes(stored_row(store, local_id).parquet)  # and copied again


def test_another_machine_reads_the_database_and_keeps_its_own_copy(store, stored, tmp_path, monkeypatch) -> None:
    local_id, frame = stored
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "other-machine"))
    assert not the_copy(store, local_id).exists()
    pd.testing.assert_frame_equal(store.load_result(local_id), frame)
    wait_for_copies()
    assert the_copy(store, local_id).read_bytes() == bytes(stored_row(store, local_id).parquet)
    assert not [p.name for p in copies_directory().iterdir() if p.name.endswith(".partial")]
    pd.testing.assert_frame_equal(store.load_result(local_id), frame)  # now from the copy


def test_a_copy_that_cannot_be_written_does_not_fail_the_store(store, claim, tmp_path, monkeypatch) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(blocked))
    record = claim()
    store.store_result(record.id, large_frame(), output_columns=[], bytes_downloaded=0)
    pd.testing.assert_frame_equal(store.load_result(record.id), large_frame())


def test_storing_a_result_again_replaces_what_a_hit_reads(store, stored) -> None:
    local_id, _ = stored
    replacement = large_frame().iloc[::-1].reset_index(drop=True)
    store.store_result(local_id, replacement, output_columns=[], bytes_downloaded=0)
    pd.testing.assert_frame_equal(store.load_result(local_id), replacement)


@pytest.mark.parametrize("piece_bytes", [100_000, 1 << 16, None])
def test_the_bytes_read_in_pieces_are_the_stored_ones(store, stored, piece_bytes) -> None:
    local_id, _ = stored
    row = stored_row(store, local_id)
    with store.engine.connect() as conn:
        fetched = queries.result_parquet(conn, local_id, piece_bytes=piece_bytes)
    assert bytes(fetched.data) == bytes(row.parquet)
    assert fetched.sha256 == row.sha256


def test_a_result_whose_size_is_a_whole_number_of_pieces_arrives_whole(store, claim) -> None:
    record = claim()
    store.store_result(record.id, large_frame(), output_columns=[], bytes_downloaded=0)
    size = len(stored_row(store, record.id).parquet)
    with store.engine.connect() as conn:
        fetched = queries.result_parquet(conn, record.id, piece_bytes=size // 4 if size % 4 == 0 else size)
    assert bytes(fetched.data) == bytes(stored_row(store, record.id).parquet)
    with store.engine.connect() as conn:
        assert queries.result_parquet(conn, "no-such-execution") is None



def test_a_results_size_and_checksum_are_found_without_its_bytes(store, stored) -> None:
    local_id, _ = stored
    row = stored_row(store, local_id)
    with store.engine.connect() as conn:
        found = queries.result_checksum(conn, local_id)
        assert (found.byte_size, found.sha256) == (len(row.parquet), row.sha256)
        assert queries.result_checksum(conn, "no-such-execution") is None
        assert queries.result_checksum(conn, "bad\x00id") is None


def write_copy(directory, name: str, size: int, mtime: float):
    path = directory / name
    path.write_bytes(b"x" * size)
    os.utime(path, (mtime, mtime))
    return path


def test_pruning_deletes_the_least_recently_used_copies_until_the_rest_fit(tmp_path) -> None:
    old = write_copy(tmp_path, "a.parquet", 400, 1_000)
    middle = write_copy(tmp_path, "b.parquet", 400, 2_000)
    new = write_copy(tmp_path, "c.parquet", 400, 3_000)
    deleted = prune_copies(tmp_path, 800, now=4_000)
    assert deleted == [old]
    assert not old.exists() and middle.exists() and new.exists()
    assert prune_copies(tmp_path, 800, now=4_000) == []


def test_pruning_never_deletes_the_copy_just_written_nor_other_files(tmp_path) -> None:
    written = write_copy(tmp_path, "big.parquet", 1_000, 1_000)
    older = write_copy(tmp_path, "older.parquet", 10, 500)
    other = write_copy(tmp_path, "notes.txt", 5_000, 100)
    assert prune_copies(tmp_path, 100, keep=written, now=2_000) == [older]
    assert written.exists() and other.exists()


def test_pruning_sweeps_partial_copies_left_by_a_writer_that_died(tmp_path) -> None:
    abandoned = write_copy(tmp_path, ".abc.1.partial", 10, 1_000)
    being_written = write_copy(tmp_path, ".abc.2.partial", 10, 4_000)
    assert prune_copies(tmp_path, 1 << 30, now=4_700) == [abandoned]  # an hour and more, against minutes
    assert being_written.exists()


def test_a_new_copy_over_the_limit_pushes_out_the_least_recently_hit(store, claim) -> None:
    first, second = claim(), claim(sql="SELECT campaign FROM amazon_attributed_events_by_traffic_time")
    store.store_result(first.id, large_frame(), output_columns=[], bytes_downloaded=0)
    other = large_frame().iloc[::-1].reset_index(drop=True)
    store.store_result(second.id, other, output_columns=[], bytes_downloaded=0)
    first_copy, second_copy = the_copy(store, first.id), the_copy(store, second.id)
    os.utime(first_copy, (1_000, 1_000))
    os.utime(second_copy, (2_000, 2_000))
    store.load_result(first.id)  # a hit: the first copy is now the most recently used
    assert first_copy.stat().st_mtime > second_copy.stat().st_mtime
    limit = first_copy.stat().st_size + second_copy.stat().st_size
    row = stored_row(store, second.id)
    second_copy.unlink()
    keep_copy(row.sha256, bytes(row.parquet), max_bytes=limit - 1)  # written again: now the newest
    assert second_copy.exists() and not first_copy.exists()
    pd.testing.assert_frame_equal(store.load_result(first.id), large_frame())  # from the database
