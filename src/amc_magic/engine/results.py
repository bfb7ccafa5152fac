"""Fetch an execution's result files and parse them into one typed DataFrame.

Every file is streamed to a temporary file (several at once), then parsed by ``pyarrow.csv`` with
each column's type taken from AMC's ``outputColumns``, never guessed:

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
import tempfile
from collections.abc import Sequence
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
    types = {c.name: arrow_type(c.data_type) for c in columns}
    tables = [_read_csv(path, types) for path in paths]
    if tables:
        try:
            table = pa.concat_tables([t.select(tables[0].column_names) for t in tables], promote_options="permissive")
        except (pa.ArrowInvalid, KeyError) as exc:
            raise _parse_error(paths[0], exc) from None
    else:
        table = pa.schema([(name, t) for name, t in types.items()]).empty_table()
    table = table.cast(pa.schema([_as_loaded(f) for f in table.schema]))
    return table.to_pandas(types_mapper=_PANDAS_TYPES.get, self_destruct=True, split_blocks=True)


async def fetch_result(
    client: AmcClient,
    instance: InstanceRef,
    execution_id: str,
    columns: Sequence[OutputColumn],
    *,
    urls: Sequence[str],
    concurrency: int = 4,
) -> FetchedResult:
    """Download every result file at once (at most ``concurrency`` in flight) and parse them.

    A link that is refused (expired) is replaced by asking AMC for the links again, once.

    Args:
        client: the AMC client.
        instance: the execution's instance.
        execution_id: the SUCCEEDED execution.
        columns: its ``outputColumns``.
        urls: its download links, as just returned by ``downloadUrls``.
        concurrency: files downloaded at the same time.
    """
    links = _Links(client, instance, execution_id, list(urls))
    limit = asyncio.Semaphore(concurrency)
    with tempfile.TemporaryDirectory(prefix="amc-result-") as directory:
        paths = [Path(directory) / f"part-{i:05d}.csv" for i in range(len(urls))]

        async def download(index: int) -> int:
            async with limit:
                return await links.download(index, paths[index])

        sizes = await asyncio.gather(*(download(i) for i in range(len(urls))))
        frame = await asyncio.to_thread(read_result_files, paths, columns)
    return FetchedResult(frame, sum(sizes), len(urls))


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


def _read_csv(path: Path, types: dict[str, pa.DataType]) -> pa.Table:
    try:
        return pacsv.read_csv(path, convert_options=_convert_options(types))
    except pa.ArrowInvalid as exc:
        if "zone offset" not in str(exc):
            raise _parse_error(path, exc) from None
    zoned = {name: pa.timestamp("us", tz="UTC") if t == _TIMESTAMP else t for name, t in types.items()}
    try:
        return pacsv.read_csv(path, convert_options=_convert_options(zoned))
    except pa.ArrowInvalid as exc:
        raise _parse_error(path, exc) from None


def _convert_options(types: dict[str, pa.DataType]) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False)


def _as_loaded(field: pa.Field) -> pa.Field:
    """Dates and zoned timestamps become naive microsecond timestamps; other types stay."""
    if pa.types.is_date(field.type) or pa.types.is_timestamp(field.type):
        return field.with_type(_TIMESTAMP)
    return field


def _parse_error(path: Path, exc: Exception) -> ExecutionError:
    return ExecutionError(
        f"The result file {path.name} does not match the columns AMC declared: {exc}",
        hint="This is unexpected; the execution succeeded on AMC, so `%amc result ID` can fetch it again.",
    )
