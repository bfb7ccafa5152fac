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


def parquet_to_frame(data: bytes) -> pd.DataFrame:
    """Decode Parquet bytes written by :func:`frame_to_parquet` back into a DataFrame."""
    return pq.read_table(pa.BufferReader(data)).to_pandas()
