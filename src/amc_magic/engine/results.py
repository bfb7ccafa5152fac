"""Fetch an execution's result files and parse them into one typed DataFrame.

Every file is streamed to a temporary file (several at once) and parsed by ``pyarrow.csv`` in a
worker thread as soon as it has arrived, while the others are still downloading; each column's type
is taken from AMC's ``outputColumns``, never guessed. The parsed tables are joined and converted to
pandas once, column by column, each Arrow column freed as soon as it is converted.

Memory: with at least as many files as cores, files are parsed side by side, one single-threaded
parse per core; each thread hands the memory its parse freed back to the system when done, and so
does each converted column, otherwise the allocator's caches would hold about as much again as the
result while it is converted. Fewer files are each parsed with all cores.

============================================  ==========================================
AMC type                                      pandas dtype
============================================  ==========================================
LONG, INTEGER, BIGINT, SHORT, ...             ``Int64`` (nullable)
DOUBLE, FLOAT, REAL, DECIMAL                  ``float64``
BOOLEAN                                       ``boolean`` (nullable)
DATE, TIMESTAMP                               ``datetime64[us]`` (UTC wall time if zoned)
STRING and anything else                      ``string``
============================================  ==========================================

An unquoted empty field is NULL; a quoted empty string stays an empty string.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from amc_magic.client import AmcClient, InstanceRef, OutputColumn
from amc_magic.errors import AccessDeniedError, ExecutionError

_INTEGER = pa.int64()
_FLOAT = pa.float64()
_TIMESTAMP = pa.timestamp("us")
_ZONED = pa.timestamp("us", tz="UTC")
_ARROW_TYPES: dict[str, pa.DataType] = {
    **dict.fromkeys(("LONG", "INTEGER", "INT", "BIGINT", "SHORT", "SMALLINT", "BYTE", "TINYINT"), _INTEGER),
    **dict.fromkeys(("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC"), _FLOAT),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": _TIMESTAMP,
}
_PANDAS_TYPES = {_INTEGER: pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype(), pa.string(): pd.StringDtype("pyarrow")}
_TYPE_NAME = re.compile(r"[A-Z_]+")


@dataclass(frozen=True)
class FetchedResult:
    """A parsed result and what it took to get it."""

    frame: pd.DataFrame
    size_bytes: int
    files: int


def arrow_type(data_type: str) -> pa.DataType:
    """The Arrow type a column of AMC type ``data_type`` is read as (``DECIMAL(38,4)`` is DECIMAL)."""
    name = _TYPE_NAME.match(data_type.strip().upper())
    return _ARROW_TYPES.get(name.group() if name else "", pa.string())


def read_result_files(paths: Sequence[Path], columns: Sequence[OutputColumn]) -> pd.DataFrame:
    """Parse result CSV files (each with a header row) into one DataFrame typed by ``columns``.

    Columns a file has but ``columns`` does not name get the type Arrow infers (unified across files).

    Raises:
        ExecutionError: a file does not parse with the declared types, or the files disagree.
    """
    types = column_types(columns)
    threads = _threads_per_file(len(paths))
    if threads or len(paths) < 2:
        tables = [read_result_file(path, types, threads=threads) for path in paths]
    else:
        with ThreadPoolExecutor(min(len(paths), _cores()), thread_name_prefix="amc-result") as pool:
            tables = list(pool.map(lambda path: read_result_file(path, types, threads=False), paths))
    return tables_to_frame(tables, types)


def column_types(columns: Sequence[OutputColumn]) -> dict[str, pa.DataType]:
    """The Arrow type of each declared column, by name."""
    return {c.name: arrow_type(c.data_type) for c in columns}


def read_result_file(path: Path, types: dict[str, pa.DataType], *, threads: bool = True) -> pa.Table:
    """Parse one result file with the declared column types (zoned timestamps read as UTC).

    Args:
        path: the CSV file (with a header row).
        types: the declared Arrow type of each column, by name.
        threads: parse with all cores (else in the calling thread only, for files parsed side by side).

    Raises:
        ExecutionError: the file does not parse with those types.
    """
    options = pacsv.ReadOptions(use_threads=threads)
    try:
        try:
            return pacsv.read_csv(path, read_options=options, convert_options=_convert_options(types))
        except pa.ArrowInvalid as exc:
            if "zone offset" not in str(exc):
                raise _parse_error(path, exc) from None
        zoned = {name: _ZONED if t == _TIMESTAMP else t for name, t in types.items()}
        try:
            return pacsv.read_csv(path, read_options=options, convert_options=_convert_options(zoned))
        except pa.ArrowInvalid as exc:
            raise _parse_error(path, exc) from None
    finally:
        pa.default_memory_pool().release_unused()  # this thread's cache of freed parse buffers


def tables_to_frame(tables: list[pa.Table], types: dict[str, pa.DataType]) -> pd.DataFrame:
    """Join the tables of one result's files and convert them to pandas once.

    The list is emptied: its tables' memory goes over to the DataFrame column by column, each Arrow
    column freed (and its memory handed back) as soon as it is converted, so that at most about one
    column exists twice.
    """
    if not tables:
        table = pa.schema(list(types.items())).empty_table()
    elif all(t.schema.equals(tables[0].schema) for t in tables[1:]):
        table = pa.concat_tables(tables)
    else:
        try:
            names = tables[0].column_names
            table = pa.concat_tables([t.select(names) for t in tables], promote_options="permissive")
        except (pa.ArrowInvalid, KeyError) as exc:
            raise ExecutionError(f"The result files do not have the same columns: {exc}", hint=_REFETCH_HINT) from None
    tables.clear()
    names, converted, pool = table.column_names, {}, pa.default_memory_pool()
    for index in range(len(names)):
        column = table.column(0)
        table = table.remove_column(0)
        converted[index] = _to_pandas(column)
        del column
        pool.release_unused()
    frame = pd.DataFrame(converted, copy=False)
    frame.columns = names
    return frame


def _to_pandas(column: pa.ChunkedArray) -> pd.Series:
    """One column in its pandas dtype (dates and zoned timestamps as naive microsecond timestamps)."""
    if pa.types.is_date(column.type) or (pa.types.is_timestamp(column.type) and column.type != _TIMESTAMP):
        column = column.cast(_TIMESTAMP)
    return column.to_pandas(types_mapper=_PANDAS_TYPES.get)


async def fetch_result(
    client: AmcClient,
    instance: InstanceRef,
    execution_id: str,
    columns: Sequence[OutputColumn],
    *,
    urls: Sequence[str],
    concurrency: int = 4,
) -> FetchedResult:
    """Download every result file (at most ``concurrency`` at once), parsing each as soon as it arrives.

    Each file is streamed to a temporary file and parsed in a worker thread while the next ones
    download (at most one parse per core at a time). A link that is refused (expired) is replaced
    by asking AMC for the links again, once. The tables are converted to one DataFrame at the end.

    Args:
        client: the AMC client.
        instance: the execution's instance.
        execution_id: the SUCCEEDED execution.
        columns: its ``outputColumns``.
        urls: its download links, as just returned by ``downloadUrls``.
        concurrency: files downloaded at the same time.
    """
    links = _Links(client, instance, execution_id, list(urls))
    downloads, parses = asyncio.Semaphore(concurrency), asyncio.Semaphore(_cores())
    types = column_types(columns)
    threads = _threads_per_file(len(urls))
    with tempfile.TemporaryDirectory(prefix="amc-result-") as directory:

        async def fetch(index: int) -> tuple[int, pa.Table]:
            path = Path(directory) / f"part-{index:05d}.csv"
            async with downloads:
                size = await links.download(index, path)
            async with parses:
                table = await asyncio.to_thread(read_result_file, path, types, threads=threads)
            path.unlink()
            return size, table

        tasks = [asyncio.ensure_future(fetch(i)) for i in range(len(urls))]
        try:
            parts = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
    size = sum(size for size, _ in parts)
    tables = [table for _, table in parts]
    del parts, tasks  # (the tasks hold their results): the DataFrame takes the tables' memory over
    frame = await asyncio.to_thread(tables_to_frame, tables, types)
    return FetchedResult(frame, size, len(urls))


class _Links:
    """The result links of one execution, asked for again (once, for everybody) if one is refused."""

    def __init__(self, client: AmcClient, instance: InstanceRef, execution_id: str, urls: list[str]) -> None:
        self._client = client
        self._instance = instance
        self._execution_id = execution_id
        self._urls = urls
        self._renewed = False
        self._lock = asyncio.Lock()

    async def download(self, index: int, path: Path) -> int:
        url = self._urls[index]
        with path.open("wb") as sink:
            try:
                return await self._client.download(url, sink)
            except AccessDeniedError:
                fresh = await self._renew()
                if fresh[index] == url:
                    raise
                return await self._client.download(fresh[index], sink)

    async def _renew(self) -> list[str]:
        async with self._lock:
            if not self._renewed:
                self._urls = await self._client.download_urls(self._instance, self._execution_id)
                self._renewed = True
            return self._urls


def _cores() -> int:
    return max(1, os.cpu_count() or 1)


def _threads_per_file(files: int) -> bool:
    """Whether each file is parsed with all cores (fewer files than cores) or a file per core."""
    return files < _cores()


def _convert_options(types: dict[str, pa.DataType]) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False)


_REFETCH_HINT = "This is unexpected; the execution succeeded on AMC, so `%amc result ID` can fetch it again."


def _parse_error(path: Path, exc: Exception) -> ExecutionError:
    return ExecutionError(
        f"The result file {path.name} does not match the columns AMC declared: {exc}", hint=_REFETCH_HINT
    )
