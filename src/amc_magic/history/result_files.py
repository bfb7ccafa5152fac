"""Large cached results: the bytes in the database, a checksummed Parquet copy on this machine.

The database stays the one place a result lives, so a team sharing a PostgreSQL history from
several machines shares its cache. Fetching megabytes from it, though, costs nearly as much as
decoding them (PostgreSQL sends an 18 MB result in two thirds of the time pyarrow takes to read it), so each
result of at least :data:`LOCAL_COPY_MIN_BYTES` is also written, when it is stored or first
loaded on a machine, to ``<Jupyter data dir>/amc_magic/results/<sha256>.parquet``. A cache hit
reads that file (memory-mapped) instead, after checking its size and its SHA-256, which the
database keeps next to the bytes (``amc_results.sha256``); the hash runs beside the Parquet
decode. A missing, short or damaged copy is never an error: it is deleted and the bytes come from
the database, and a fresh copy is written in the background. Copies are named by their content, so one directory
serves every database on the machine, and two processes writing the same copy write the same
bytes (each to a temporary file renamed into place).

Copies are not removed when their database forgets a result; deleting the directory is always safe.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from jupyter_core.paths import jupyter_data_dir

from amc_magic.history import queries
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


def keep_copy(sha256: str | None, data: bytes | bytearray) -> None:
    """Write the copy of a large result, unless it exists; a failure to write is only logged."""
    if sha256 is None or len(data) < LOCAL_COPY_MIN_BYTES:
        return
    copy = _Copy(sha256, len(data))
    if not copy.exists():
        copy.add(data)
        copy.finish()


def load_result(engine: sa.Engine, local_id: str) -> pd.DataFrame | None:
    """The stored result of an execution, from this machine's copy if it is sound, else the database.

    Bytes fetched from the database are written to the copy behind the caller's back, piece by
    piece in one worker thread, while the rest arrives (PostgreSQL sends them in pieces) and while
    they are decoded: the result is returned without waiting for its copy (see
    :func:`wait_for_copies`). They are not hashed: the checksum naming the copy was read with
    them, and every later read of the copy checks it.
    """
    with engine.connect() as conn:
        stored = queries.result_checksum(conn, local_id)
    if stored is None:
        return None
    on_piece, copy = None, None
    if stored.sha256 is not None and stored.byte_size >= LOCAL_COPY_MIN_BYTES:
        frame = read_copy(stored.sha256, stored.byte_size)
        if frame is not None:
            return frame
        copy = _Copy(stored.sha256, stored.byte_size)
        on_piece = functools.partial(_copier().submit, copy.add)
    with engine.connect() as conn:
        fetched = queries.result_parquet(conn, local_id, on_piece=on_piece)
    if copy is not None:
        _copier().submit(copy.finish, sha256=fetched and fetched.sha256)  # (the row may be new since)
    return None if fetched is None else parquet_to_frame(pa.py_buffer(fetched.data))


def wait_for_copies() -> None:
    """Return once every copy :func:`load_result` has begun is written (or given up)."""
    _copier().submit(int).result()


@functools.cache
def _copier() -> ThreadPoolExecutor:
    """The one thread that writes copies, in the order their pieces arrive (joined at exit, so they finish)."""
    return ThreadPoolExecutor(1, thread_name_prefix="amc-result-copy")


class _Copy:
    """This machine's copy of one result, written piece by piece to a temporary file renamed into place.

    Every failure to write is only logged: the copy is a shortcut, the database keeps the result.
    """

    def __init__(self, sha256: str, size: int) -> None:
        self.path = copies_directory() / f"{sha256}.parquet"
        self._sha256, self._size, self._written = sha256, size, 0
        self._partial = self.path.with_name(f".{sha256}.{uuid.uuid4().hex}.partial")
        self._file: BinaryIO | None = None
        self._failed = False

    def exists(self) -> bool:
        try:
            return self.path.is_file() and self.path.stat().st_size == self._size
        except OSError:
            return False

    def add(self, piece: bytes | bytearray | memoryview) -> None:
        self._written += len(piece)
        if self._failed:
            return
        try:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self._partial.open("wb")
            self._file.write(piece)
        except OSError as exc:
            self._give_up(exc)

    def finish(self, sha256: str | None = None) -> None:
        """Rename the written file into place if it is whole (and, given the checksum read with the bytes, if that names it)."""
        try:
            if self._file is not None:
                self._file.close()
            if not self._failed and self._written == self._size and sha256 in (None, self._sha256):
                os.replace(self._partial, self.path)
        except OSError as exc:
            self._give_up(exc)
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._partial.unlink(missing_ok=True)

    def _give_up(self, exc: OSError) -> None:
        logger.debug("could not keep a copy of result %s: %s", self._sha256, exc)
        self._failed = True


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
