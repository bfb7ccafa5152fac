"""Parse a result CSV file in blocks while its bytes arrive, several blocks at a time.

A :class:`BlockParser` is the sink a download streams into (or a file is copied into): it cuts
the bytes into blocks of about :data:`BLOCK_BYTES` at line ends and hands each block to a worker
thread, which parses it with ``pyarrow.csv`` and the declared column types, so that a file is
parsed while the rest of it is still downloading and no block is held once it is parsed. Cutting
at line ends is what ``pyarrow.csv`` does itself (values are not allowed to contain newlines).

Memory stays bounded: at most one block per core is being parsed or waiting to be, and a
sink that would queue another waits (on the download's own thread) until one is done. The parsed
tables are allocated from :data:`MEMORY_POOL`, jemalloc where Arrow has it, set to hand freed pages
back to the system at once: mimalloc (Arrow's default) and a decaying jemalloc keep what the parse
and the conversion freed, which more than doubled the peak. That costs page faults (about a
quarter of the time of a million-row result): a bounded peak was chosen over speed (BENCHMARKS.md
has both figures).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

BLOCK_BYTES = 1 << 20
"""Bytes of CSV per parsed block (cut at the next line end before it)."""

_TIMESTAMP = pa.timestamp("us")
_ZONED = pa.timestamp("us", tz="UTC")
_LARGE_STRING = pa.large_string()  # what pandas' Arrow-backed strings hold: no copy of the offsets later


def _memory_pool() -> pa.MemoryPool:
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without jemalloc
        return pa.default_memory_pool()
    if pa.default_memory_pool().backend_name != "jemalloc":  # nobody else's: hand freed pages back at once
        pa.jemalloc_set_decay_ms(0)
    return pool


MEMORY_POOL = _memory_pool()
"""Where parsed blocks are allocated."""


class ParseError(Exception):
    """A block did not parse with the declared types (the message is Arrow's)."""


@functools.cache
def _workers() -> ThreadPoolExecutor:
    """The parse threads, one per core, started once: new threads would get new allocator arenas."""
    return ThreadPoolExecutor(max(1, os.cpu_count() or 1), thread_name_prefix="amc-result")


class Blocks:
    """The blocks of one result being parsed, at most one per core at a time.

    (A block queued beside them kept the cores no busier: filling a buffer is far quicker than
    parsing it, and that buffer was a tenth of a 100,000-row result's peak memory.)

    Args:
        block_bytes: the size of a block buffer (a block is cut at its last line end).
    """

    def __init__(self, block_bytes: int = BLOCK_BYTES) -> None:
        self.block_bytes = block_bytes
        self._pool = _workers()
        self._slots = threading.BoundedSemaphore(self._pool._max_workers)
        self._parts: set[Future[pa.Table]] = set()
        self._spare: list[tuple[pa.Buffer, memoryview]] = []
        self._closed = False

    def buffer(self) -> tuple[pa.Buffer, memoryview]:
        """An empty block buffer: one a parsed block gave back (its pages already mapped), or a new one."""
        try:
            return self._spare.pop()
        except IndexError:
            return _allocate(self.block_bytes)

    def submit(self, parse: Callable[[], pa.Table], buffer: tuple[pa.Buffer, memoryview]) -> Future[pa.Table]:
        """Parse in a worker, waiting first while every slot is taken; ``buffer`` is reused afterwards."""
        self._slots.acquire()
        future = self._pool.submit(parse)
        self._parts.add(future)
        future.add_done_callback(lambda done: self._done(done, buffer))
        return future

    def _done(self, future: Future[pa.Table], buffer: tuple[pa.Buffer, memoryview]) -> None:
        self._parts.discard(future)
        if len(buffer[1]) == self.block_bytes and not self._closed:  # the parsed table holds none of its input
            self._spare.append(buffer)
        self._slots.release()

    def close(self) -> None:
        """Drop the blocks not yet started, wait for those being parsed (their results unused), free the buffers."""
        for future in list(self._parts):
            future.cancel()
        futures.wait(list(self._parts))
        self._closed = True
        self._spare.clear()  # (before the conversion: for a small result, they are a good part of its size)

    def __enter__(self) -> Blocks:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class BlockParser:
    """A writable sink that parses the CSV written to it, block by block (see the module docs).

    The bytes are copied once, into a block buffer of the pool; when it is full, everything up
    to its last line end goes to a worker and the rest starts the next block. ``seek(0)``
    followed by ``truncate()`` starts again from nothing, as a retried download does.

    Args:
        blocks: the worker threads.
        types: the declared Arrow type of each column, by name (others are inferred).
    """

    def __init__(self, blocks: Blocks, types: dict[str, pa.DataType]) -> None:
        self._blocks = blocks
        self._types = {name: _LARGE_STRING if t == pa.string() else t for name, t in types.items()}
        self._zoned = {name: _ZONED if t == _TIMESTAMP else t for name, t in self._types.items()}
        self.truncate()

    def write(self, data: bytes | memoryview) -> int:
        view = memoryview(data).cast("B")
        while len(view):
            taken = min(len(view), len(self._view) - self._filled)
            self._view[self._filled : self._filled + taken] = view[:taken]
            self._filled += taken
            view = view[taken:]
            if self._filled == len(self._view):
                self._cut()
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def seek(self, offset: int, whence: int = 0) -> int:
        if (offset, whence) != (0, 0):
            raise OSError("a BlockParser can only be rewound to its start")
        return 0

    def truncate(self, size: int | None = None) -> int:
        """Drop everything written so far (blocks still being parsed finish, unused)."""
        self._empty: pa.Table | None = None  # the header's columns, once it has arrived
        self._buffer, self._view = self._blocks.buffer()
        self._filled = self._written = 0
        self._parts: list[Future[pa.Table]] = []
        return 0

    def copy_from(self, path: Path) -> None:
        """Write the file at ``path`` into the parser (read straight into the block buffers)."""
        with path.open("rb", buffering=0) as source:
            while read := source.readinto(self._view[self._filled :]):
                self._filled += read
                self._written += read
                if self._filled == len(self._view):
                    self._cut()

    def table(self) -> pa.Table:
        """Parse what is still pending and return the whole file's table (blocks in order).

        Raises:
            ParseError: a block does not parse with the declared types, or there is no header.
        """
        self._cut(final=True)
        tables = [part.result() for part in self._parts] or [self._empty]
        self._parts = []
        if len(tables) == 1:
            return tables[0]
        try:
            return pa.concat_tables(tables, promote_options="permissive")  # inferred columns may differ by block
        except pa.ArrowInvalid as exc:
            raise ParseError(str(exc)) from None

    def _cut(self, *, final: bool = False) -> None:
        """Hand the block up to its last line end (all of it if ``final``) to a worker."""
        if self._empty is None:
            start = _line_end(self._view, 0, self._filled, first=True) or (self._filled if final else 0)
            if not start and not final:
                return self._grow()
            self._empty = self._read(self._buffer.slice(0, start), pacsv.ReadOptions(use_threads=False))
            rest = bytes(self._view[start : self._filled])  # the header's line is not data
            self._view[: len(rest)] = rest
            self._filled = len(rest)
        end = self._filled if final else _line_end(self._view, 0, self._filled)
        if not end and not final:
            return self._grow()
        if end:
            block = self._buffer.slice(0, end)
            read = pacsv.ReadOptions(
                column_names=self._empty.column_names, use_threads=False, block_size=len(block) + 1
            )
            self._parts.append(self._blocks.submit(lambda: self._read(block, read), (self._buffer, self._view)))
        rest = bytes(self._view[end : self._filled])  # (the block's buffer may be reused once it is parsed)
        if final:
            self._buffer, self._view = _allocate(0)
        else:
            fits = len(rest) < self._blocks.block_bytes
            self._buffer, self._view = self._blocks.buffer() if fits else _allocate(2 * len(rest))
        self._view[: len(rest)] = rest
        self._filled = len(rest)

    def _grow(self) -> None:
        """Make room for a line longer than the block buffer."""
        bigger, view = _allocate(2 * len(self._view))
        view[: self._filled] = self._view[: self._filled]
        self._buffer, self._view = bigger, view

    def _read(self, buffer: pa.Buffer, read: pacsv.ReadOptions) -> pa.Table:
        """Parse ``buffer`` with the declared types (zoned timestamps as naive UTC)."""
        try:
            try:
                return _read(buffer, read, self._types)
            except pa.ArrowInvalid as exc:
                if "zone offset" not in str(exc):
                    raise
            table = _read(buffer, read, self._zoned)
        except pa.ArrowInvalid as exc:
            raise ParseError(str(exc)) from None
        for index, field in enumerate(table.schema):
            if field.type == _ZONED:  # UTC wall time, as naive timestamps
                table = table.set_column(index, field.name, table.column(index).cast(_TIMESTAMP))
        return table


def _allocate(size: int) -> tuple[pa.Buffer, memoryview]:
    """A block buffer of the pool, and a writable view of its bytes."""
    buffer = pa.allocate_buffer(size, memory_pool=MEMORY_POOL)
    return buffer, memoryview(buffer).cast("B")


def _line_end(view: memoryview, start: int, end: int, *, first: bool = False) -> int:
    """The offset just after the first (or last) line end in ``view[start:end]``, 0 if there is none."""
    window = 1 << 12
    while True:
        low, high = (start, min(end, start + window)) if first else (max(start, end - window), end)
        text = bytes(view[low:high])
        found = text.find(b"\n") if first else text.rfind(b"\n")
        if found >= 0:
            return low + found + 1
        if high - low == end - start:
            return 0
        window *= 16


def _read(buffer: pa.Buffer, read: pacsv.ReadOptions, types: dict[str, pa.DataType]) -> pa.Table:
    convert = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False)
    return pacsv.read_csv(pa.BufferReader(buffer), read_options=read, convert_options=convert, memory_pool=MEMORY_POOL)
