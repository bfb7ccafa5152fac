"""Result frames as Parquet bytes: the cache's storage format, which keeps pandas dtypes."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def frame_to_parquet(frame: pd.DataFrame) -> bytes:
    """Encode ``frame`` as Parquet, with pandas metadata so dtypes survive the round trip."""
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(frame), sink)
    return sink.getvalue().to_pybytes()


def parquet_to_frame(data: bytes | pa.Buffer) -> pd.DataFrame:
    """Decode Parquet bytes written by :func:`frame_to_parquet` back into a DataFrame."""
    return table_to_frame(pq.read_table(pa.BufferReader(data)))


def table_to_frame(table: pa.Table) -> pd.DataFrame:
    """Convert a decoded result table to pandas, freeing each Arrow column once it is converted.

    One block per column (``split_blocks``): columns of one dtype are not copied into a 2-D block.
    """
    return table.to_pandas(split_blocks=True, self_destruct=True)
