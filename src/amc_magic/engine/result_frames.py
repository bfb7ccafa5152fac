"""Parsed result columns to their pandas dtypes, each with one copy into memory Arrow reuses.

``Table.to_pandas`` allocates every numeric column afresh through numpy, and pandas' own
``Int64``/``boolean`` conversion copies each chunk and then joins the copies. Here a column's
chunks are joined once, by Arrow, in :data:`~.result_blocks.MEMORY_POOL`, and the pandas array is
a writable view of that buffer; the pool hands each column the memory the previous column's
chunks just gave back, so a large result costs few fresh pages (and page faults). Nulls become
the dtype's own missing value: a mask for ``Int64`` and ``boolean``, ``NaN`` for floats, ``NaT``
for timestamps.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from amc_magic.engine.result_blocks import MEMORY_POOL

_TIMESTAMP = pa.timestamp("us")
_MICROSECONDS_PER_DAY = 86_400_000_000
_NAT = np.datetime64("NaT", "us")
_FALLBACK_TYPES = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype(), pa.string(): pd.StringDtype("pyarrow")}


def column_to_pandas(column: pa.ChunkedArray) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """The pandas array of one result column (dates and zoned timestamps as naive microseconds).

    ``int64`` becomes ``Int64``, ``bool`` ``boolean``, ``double`` ``float64``, ``date32`` and
    ``timestamp[us]`` ``datetime64[us]``, ``string`` the Arrow-backed ``string``; any other type
    (only columns AMC did not declare have them) goes through ``to_pandas``.
    """
    convert = _CONVERTERS.get(column.type)
    if convert is None:
        if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
            return _timestamps(column.cast(_TIMESTAMP))
        return column.to_pandas(types_mapper=_FALLBACK_TYPES.get).array
    return convert(column)


def _joined(column: pa.ChunkedArray) -> pa.Array:
    """The column as one array: its only chunk, or its chunks copied into one buffer of the pool."""
    if column.num_chunks == 1:
        return column.chunk(0)
    if column.num_chunks == 0:
        return pa.array([], column.type)
    return pa.concat_arrays(column.chunks, memory_pool=MEMORY_POOL)


def _values(array: pa.Array, dtype: type[np.generic], *, writable: bool = True) -> np.ndarray:
    """A view of a fixed-width array's values (whatever is in the null slots), copied if it must be writable."""
    if len(array) == 0:
        return np.empty(0, dtype)
    width = np.dtype(dtype).itemsize
    values = np.frombuffer(array.buffers()[1], dtype, count=len(array), offset=array.offset * width)
    return values if values.flags.writeable or not writable else values.copy()


def _mask(array: pa.Array) -> np.ndarray:
    """True where ``array`` is null."""
    if array.null_count == 0:
        return np.zeros(len(array), np.bool_)
    return _bits(array.buffers()[0], array) == 0


def _bits(bitmap: pa.Buffer, array: pa.Array) -> np.ndarray:
    """A bitmap of ``array`` (validity or boolean values) as one byte per value, 0 or 1."""
    packed = np.frombuffer(bitmap, np.uint8)
    return np.unpackbits(packed, count=array.offset + len(array), bitorder="little")[array.offset :]


def _integers(column: pa.ChunkedArray) -> pd.arrays.IntegerArray:
    array = _joined(column)
    return pd.arrays.IntegerArray(_values(array, np.int64), _mask(array))


def _floats(column: pa.ChunkedArray) -> np.ndarray:
    array = _joined(column)
    values = _values(array, np.float64)
    if array.null_count:
        np.putmask(values, _mask(array), np.nan)
    return values


def _booleans(column: pa.ChunkedArray) -> pd.arrays.BooleanArray:
    array = _joined(column)
    values = _bits(array.buffers()[1], array).view(np.bool_) if len(array) else np.empty(0, np.bool_)
    return pd.arrays.BooleanArray(values, _mask(array))


def _timestamps(column: pa.ChunkedArray) -> np.ndarray:
    array = _joined(column)
    values = _values(array, np.int64).view("M8[us]")
    if array.null_count:
        np.putmask(values, _mask(array), _NAT)
    return values


def _dates(column: pa.ChunkedArray) -> np.ndarray:
    """Days since 1970 to microsecond timestamps, chunk by chunk into one array of the pool."""
    buffer = pa.allocate_buffer(max(8 * len(column), 1), memory_pool=MEMORY_POOL)
    values = np.frombuffer(buffer, np.int64, count=len(column))
    start = 0
    for chunk in column.chunks:
        end = start + len(chunk)
        if len(chunk):
            np.multiply(_values(chunk, np.int32, writable=False), _MICROSECONDS_PER_DAY, out=values[start:end], dtype=np.int64)
            if chunk.null_count:
                np.putmask(values[start:end], _mask(chunk), np.iinfo(np.int64).min)  # NaT
        start = end
    return values.view("M8[us]")


def _strings(column: pa.ChunkedArray) -> pd.api.extensions.ExtensionArray:
    return pd.StringDtype("pyarrow").__from_arrow__(column)


_CONVERTERS: dict[pa.DataType, Callable[[pa.ChunkedArray], pd.api.extensions.ExtensionArray | np.ndarray]] = {
    pa.int64(): _integers,
    pa.float64(): _floats,
    pa.bool_(): _booleans,
    _TIMESTAMP: _timestamps,
    pa.date32(): _dates,
    pa.string(): _strings,
    pa.large_string(): _strings,
}
