"""Large cached results: the bytes in the database, a checksummed Parquet copy on this machine.

The database stays the one place a result lives, so a team sharing a PostgreSQL history from
several machines shares its cache. Fetching megabytes from it, though, costs nearly as much as
decoding them (PostgreSQL sends an 18 MB result in two thirds of the time pyarrow takes to read
it), so each result of at least :data:`LOCAL_COPY_MIN_BYTES` is also written, when it is stored
or first loaded on a machine, to ``<Jupyter data dir>/amc_magic/results/<sha256>.parquet``. A
cache hit reads that file (memory-mapped) instead, after checking its size and its SHA-256, which
the database keeps next to the bytes (``amc_results.sha256``); the hash runs beside the Parquet
decode. A missing, short or damaged copy is never an error: it is deleted and the bytes come from
the database, and a fresh copy is written in the background. Copies are named by their content,
so one directory serves every database on the machine, and two processes writing the same copy
write the same bytes (each to a temporary file renamed into place).

The directory is kept under :data:`LOCAL_COPIES_MAX_BYTES`: after each copy is written, the
least recently used copies (a hit refreshes its copy's modification time) are deleted until the
rest fit, and leftovers of writers that died are swept. Deleting the directory is always safe.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import time
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
from amc_magic.history.results import frame_to_parquet, parquet_to_frame, table_to_frame

LOCAL_COPY_MIN_BYTES = 1 << 20
"""Results at least this large (as Parquet) also get a copy on this machine."""

LOCAL_COPIES_MAX_BYTES = 4 << 30
"""The most this machine's copies take together; the least recently used go first."""

_PARTIAL_MAX_AGE_SECONDS = 3600.0
"""A copy still being written after this long was left by a writer that died."""

logger = logging.getLogger(__name__)


def encode_result(frame: pd.DataFrame) -> dict[str, Any]:
    """The ``amc_results`` values of ``frame``: its Parquet bytes, their size and their SHA-256."""
    parquet = frame_to_parquet(frame)
    return dict(parquet=parquet, byte_size=len(parquet), sha256=hashlib.sha256(parquet).hexdigest())


def copies_directory() -> Path:
    """Where this machine keeps its copies of large results."""
    return Path(jupyter_data_dir()) / "amc_magic" / "results"


def keep_copy(sha256: str | None, data: bytes | bytearray, *, max_bytes: int = LOCAL_COPIES_MAX_BYTES) -> None:
    """Write the copy of a large result, unless it exists, then prune the others to ``max_bytes``.

    A failure to write or to prune is only logged.
    """
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
        prune_copies(path.parent, max_bytes, keep=path)
    except OSError as exc:
        logger.debug("could not keep a copy of result %s: %s", sha256, exc)


def prune_copies(directory: Path, max_bytes: int, *, keep: Path | None = None, now: float | None = None) -> list[Path]:
    """Delete the least recently used copies in ``directory`` until the rest take at most ``max_bytes``.

    ``keep`` (the copy just written) is never deleted, nor is any file that is not a copy; partial
    copies older than an hour (their writer died) are. Returns the deleted paths. A copy deleted while
    another process reads it is harmless: the reader has it mapped, or finds it gone and reads the
    database.
    """
    now = time.time() if now is None else now
    copies, deleted = [], []
    with os.scandir(directory) as entries:
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if entry.name.endswith(".partial") and now - info.st_mtime > _PARTIAL_MAX_AGE_SECONDS:
                deleted.append(Path(entry.path))
            elif entry.name.endswith(".parquet") and entry.is_file(follow_symlinks=False):
                copies.append((info.st_mtime, info.st_size, Path(entry.path)))
    total = sum(size for _, size, _ in copies)
    for _, size, path in sorted(copies):  # least recently used first
        if total <= max_bytes:
            break
        if path != keep:
            deleted.append(path)
            total -= size
    for path in deleted:
        path.unlink(missing_ok=True)
    return deleted


def load_result(engine: sa.Engine, local_id: str) -> pd.DataFrame | None:
    """The stored result of an execution, from this machine's copy if it is sound, else the database.

    Bytes fetched from the database are decoded first, then written to the copy behind the
    caller's back, in one worker thread: the result is returned without waiting for its copy (see
    :func:`wait_for_copies`), and the writing does not slow the decode (on two cores, writing
    beside it made a first hit of 18 MB 15 ms slower). The bytes are not hashed: the checksum
    naming the copy was read with them, and every later read of the copy checks it.
    """
    with engine.connect() as conn:
        stored = queries.result_checksum(conn, local_id)
    if stored is None:
        return None
    if stored.sha256 is not None and stored.byte_size >= LOCAL_COPY_MIN_BYTES:
        frame = read_copy(stored.sha256, stored.byte_size)
        if frame is not None:
            return frame
    with engine.connect() as conn:
        fetched = queries.result_parquet(conn, local_id)
    if fetched is None:
        return None
    frame = parquet_to_frame(pa.py_buffer(fetched.data))
    _copier().submit(keep_copy, fetched.sha256, fetched.data)  # named by the checksum read with the bytes
    return frame


def wait_for_copies() -> None:
    """Return once every copy :func:`load_result` has begun is written (or given up)."""
    _copier().submit(int).result()


@functools.cache
def _copier() -> ThreadPoolExecutor:
    """The one thread that writes copies, in the order their pieces arrive (joined at exit, so they finish)."""
    return ThreadPoolExecutor(1, thread_name_prefix="amc-result-copy")


def _touch(path: Path) -> None:
    """Mark a copy as just used (pruning deletes the least recently used first)."""
    try:
        os.utime(path)
    except OSError:  # (a read-only directory: the copy still serves)
        pass


def read_copy(sha256: str, size: int) -> pd.DataFrame | None:
    """Decode this machine's copy of a result if it has ``size`` bytes hashing to ``sha256``, else None.

    A copy that fails the check (or does not decode) is deleted.
    """
    path = copies_directory() / f"{sha256}.parquet"
    try:
        if path.stat().st_size != size:
            raise ValueError("wrong size")
        data = pa.memory_map(str(path)).read_buffer()
        _touch(path)
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
