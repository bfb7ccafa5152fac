"""Large cached results: the bytes in the database, a checksummed Parquet copy on this machine.

The database stays the one place a result lives, so a team sharing a PostgreSQL history from
several machines shares its cache. Fetching megabytes from it, though, costs more than decoding
them (PostgreSQL sends an 18 MB result in about as long as pyarrow takes to read it), so each
result of at least :data:`LOCAL_COPY_MIN_BYTES` is also written, when it is stored or first
loaded on a machine, to ``<Jupyter data dir>/amc_magic/results/<sha256>.parquet``. A cache hit
reads that file (memory-mapped) instead, after checking its size and its SHA-256, which the
database keeps next to the bytes (``amc_results.sha256``); the hash runs beside the Parquet
decode. A missing, short or damaged copy is never an error: it is deleted and the bytes come from
the database, which writes a fresh copy. Copies are named by their content, so one directory
serves every database on the machine, and two processes writing the same copy write the same
bytes (each to a temporary file renamed into place).

Copies are not removed when their database forgets a result; deleting the directory is always safe.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from jupyter_core.paths import jupyter_data_dir

from amc_magic.history import queries
from amc_magic.history import tables as t
from amc_magic.history.results import frame_to_parquet, parquet_to_frame, table_to_frame

LOCAL_COPY_MIN_BYTES = 1 << 20
"""Results at least this large (as Parquet) also get a copy on this machine."""

logger = logging.getLogger(__name__)


def encode_result(frame: pd.DataFrame) -> dict[str, Any]:
    """The ``amc_results`` values of ``frame``: its Parquet bytes, their size and their SHA-256."""
    parquet = frame_to_parquet(frame)
    return dict(parquet=parquet, byte_size=len(parquet), sha256=hashlib.sha256(parquet).hexdigest())


def copies_directory() -> Path:
    """Where this machine keeps its copies of large results."""
    return Path(jupyter_data_dir()) / "amc_magic" / "results"


def keep_copy(sha256: str | None, data: bytes) -> None:
    """Write the copy of a large result, unless it exists; a failure to write is only logged."""
    if sha256 is None or len(data) < LOCAL_COPY_MIN_BYTES:
        return
    path = copies_directory() / f"{sha256}.parquet"
    try:
        if path.is_file() and path.stat().st_size == len(data):
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{sha256}.{uuid.uuid4().hex}.partial")
        try:
            partial.write_bytes(data)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    except OSError as exc:
        logger.debug("could not keep a copy of result %s: %s", sha256, exc)


def load_result(engine: sa.Engine, local_id: str) -> pd.DataFrame | None:
    """The stored result of an execution, from this machine's copy if it is sound, else the database."""
    query = sa.select(t.results.c.byte_size, t.results.c.sha256).where(
        t.results.c.execution_id == queries.searchable(local_id)
    )
    with engine.connect() as conn:
        stored = conn.execute(query).first()
    if stored is None:
        return None
    if stored.sha256 is not None and stored.byte_size >= LOCAL_COPY_MIN_BYTES:
        frame = read_copy(stored.sha256, stored.byte_size)
        if frame is not None:
            return frame
    with engine.connect() as conn:
        data = queries.result_parquet(conn, local_id)
    if data is None:
        return None
    if stored.sha256 is not None and len(data) >= LOCAL_COPY_MIN_BYTES:
        if hashlib.sha256(data).hexdigest() == stored.sha256:  # (the row may have been stored again since)
            keep_copy(stored.sha256, data)
    return parquet_to_frame(data)


def read_copy(sha256: str, size: int) -> pd.DataFrame | None:
    """Decode this machine's copy of a result if it has ``size`` bytes hashing to ``sha256``, else None.

    A copy that fails the check (or does not decode) is deleted.
    """
    path = copies_directory() / f"{sha256}.parquet"
    try:
        if path.stat().st_size != size:
            raise ValueError("wrong size")
        data = pa.memory_map(str(path)).read_buffer()
        with ThreadPoolExecutor(1, thread_name_prefix="amc-result-hash") as hasher:
            digest = hasher.submit(lambda: hashlib.sha256(data).hexdigest())
            table = pq.read_table(pa.BufferReader(data))
            if digest.result() != sha256:
                raise ValueError("wrong checksum")
        return table_to_frame(table)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, pa.ArrowException) as exc:  # (ArrowInvalid is a ValueError)
        logger.warning("ignoring the damaged local copy %s of a cached result: %s", path, exc)
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass
        return None
