"""Fetch an execution's result files and parse them into one typed DataFrame.

Every file is streamed, as it downloads, into a :class:`~.result_blocks.BlockParser`, which
parses it in blocks of about a megabyte in worker threads (one per core) while the rest is still
arriving: no temporary file, no whole file in memory. Each column's type is taken from AMC's
``outputColumns``, never guessed. The parsed tables are joined and converted to pandas once,
column by column, each Arrow column freed as soon as it is converted, so that at most about one
column exists twice.

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
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from amc_magic.client import AmcClient, InstanceRef, OutputColumn
from amc_magic.engine.result_blocks import MEMORY_POOL, BlockParser, Blocks, ParseError
from amc_magic.engine.result_frames import column_to_pandas
from amc_magic.errors import AccessDeniedError, ExecutionError

_INTEGER = pa.int64()
_FLOAT = pa.float64()
_TIMESTAMP = pa.timestamp("us")
_ARROW_TYPES: dict[str, pa.DataType] = {
    **dict.fromkeys(("LONG", "INTEGER", "INT", "BIGINT", "SHORT", "SMALLINT", "BYTE", "TINYINT"), _INTEGER),
    **dict.fromkeys(("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC"), _FLOAT),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": _TIMESTAMP,
}
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
    tables = []
    with Blocks() as blocks:
        parsers = []
        for path in paths:  # every file's blocks are queued before the first is waited for
            parser = BlockParser(blocks, types)
            with _parse_errors(path.name):
                parser.copy_from(path)
            parsers.append((path.name, parser))
        for name, parser in parsers:
            with _parse_errors(name):
                tables.append(parser.table())
    return tables_to_frame(tables, types)


def column_types(columns: Sequence[OutputColumn]) -> dict[str, pa.DataType]:
    """The Arrow type of each declared column, by name."""
    return {c.name: arrow_type(c.data_type) for c in columns}


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
    MEMORY_POOL.release_unused()  # what the parse freed: the pool reuses it anyway, the system need not hold it
    names, converted = table.column_names, {}
    for index in range(len(names)):
        column = table.column(0)
        table = table.remove_column(0)
        converted[index] = column_to_pandas(column)
        del column
        MEMORY_POOL.release_unused()  # the column's chunks: holes too small for the next column's buffer
    frame = pd.DataFrame(converted, copy=False)
    frame.columns = names
    return frame


async def fetch_result(
    client: AmcClient,
    instance: InstanceRef,
    execution_id: str,
    columns: Sequence[OutputColumn],
    *,
    urls: Sequence[str],
    concurrency: int = 4,
) -> FetchedResult:
    """Download every result file (at most ``concurrency`` at once), parsing each while it arrives.

    Each file streams into a :class:`~.result_blocks.BlockParser`; its blocks are parsed in worker
    threads (one per core) while the rest downloads, and a download waits while every worker has
    a block queued. A link that is refused (expired) is replaced by asking AMC for the links again,
    once. The tables are converted to one DataFrame at the end.

    Args:
        client: the AMC client.
        instance: the execution's instance.
        execution_id: the SUCCEEDED execution.
        columns: its ``outputColumns``.
        urls: its download links, as just returned by ``downloadUrls``.
        concurrency: files downloaded at the same time.
    """
    links = _Links(client, instance, execution_id, list(urls))
    downloads = asyncio.Semaphore(concurrency)
    types = column_types(columns)
    with Blocks() as blocks:

        async def fetch(index: int) -> tuple[int, BlockParser]:
            parser = BlockParser(blocks, types)
            async with downloads:
                with _parse_errors(_part_name(index)):
                    size = await links.download(index, parser)
            return size, parser

        tasks = [asyncio.ensure_future(fetch(i)) for i in range(len(urls))]
        try:
            parts = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        del tasks  # (they hold their results): the DataFrame takes the tables' memory over
        size, tables = sum(size for size, _ in parts), []
        for index, (_, parser) in enumerate(parts):
            with _parse_errors(_part_name(index)):
                tables.append(await asyncio.to_thread(parser.table))
        del parts
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

    async def download(self, index: int, sink: BlockParser) -> int:
        url = self._urls[index]
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


def _part_name(index: int) -> str:
    return f"part-{index:05d}.csv"


@contextmanager
def _parse_errors(name: str) -> Iterator[None]:
    """Turn a block's :class:`~.result_blocks.ParseError` into the execution's error, naming the file."""
    try:
        yield
    except ParseError as exc:
        raise ExecutionError(
            f"The result file {name} does not match the columns AMC declared: {exc}", hint=_REFETCH_HINT
        ) from None


_REFETCH_HINT = "This is unexpected: the execution succeeded on AMC and nothing was stored, so following it again downloads its files again."
