"""Result files to one DataFrame typed by AMC's output columns."""

import pandas as pd
import pytest
from engine_support import INSTANCE, FakeAmc, make_engine

from amc_magic.client import OutputColumn
from amc_magic.engine import ExecutionRequest, SimulatedClock, read_result_files
from amc_magic.engine.result_blocks import MEMORY_POOL, BlockParser, Blocks
from amc_magic.engine.results import arrow_type, column_types, tables_to_frame
from amc_magic.errors import ExecutionError

COLUMNS = [
    OutputColumn("campaign_id", "LONG"),
    OutputColumn("units", "INTEGER"),
    OutputColumn("cost", "DOUBLE"),
    OutputColumn("sales", "DECIMAL(38,4)"),
    OutputColumn("ratio", "FLOAT"),
    OutputColumn("new_to_brand", "BOOLEAN"),
    OutputColumn("day", "DATE"),
    OutputColumn("first_seen", "TIMESTAMP"),
    OutputColumn("campaign", "STRING"),
    OutputColumn("segments", "ARRAY"),
]
HEADER = "campaign_id,units,cost,sales,ratio,new_to_brand,day,first_seen,campaign,segments\n"
PART_1 = HEADER + '1,5,1.5,10.2500,0.5,true,2025-11-01,2025-11-01 05:00:00,Spring,"[a, b]"\n,,,,,,,,,\n'
PART_2 = HEADER + '3,7,2,3,1,false,2025-11-02,2025-11-02 06:30:00.250,"",[]\n'
EXPECTED_DTYPES = {
    "campaign_id": "Int64",
    "units": "Int64",
    "cost": "float64",
    "sales": "float64",
    "ratio": "float64",
    "new_to_brand": "boolean",
    "day": "datetime64[us]",
    "first_seen": "datetime64[us]",
    "campaign": "string",
    "segments": "string",
}


def write(tmp_path, *parts):
    paths = []
    for n, text in enumerate(parts):
        path = tmp_path / f"{n}.csv"
        path.write_text(text)
        paths.append(path)
    return paths


def test_every_amc_type_gets_its_dtype_across_files(tmp_path):
    frame = read_result_files(write(tmp_path, PART_1, PART_2), COLUMNS)
    assert frame.dtypes.astype(str).to_dict() == EXPECTED_DTYPES
    assert frame["campaign_id"].tolist() == [1, pd.NA, 3]
    assert frame["new_to_brand"].tolist() == [True, pd.NA, False]
    assert frame["sales"].iloc[0] == 10.25
    assert frame["first_seen"].iloc[2] == pd.Timestamp("2025-11-02 06:30:00.250")
    assert frame["day"].iloc[1] is pd.NaT
    assert frame["campaign"].tolist() == ["Spring", pd.NA, ""]  # NULL vs quoted empty string
    assert frame["segments"].iloc[0] == "[a, b]"


def test_zoned_timestamps_become_utc_wall_time(tmp_path):
    [path] = write(tmp_path, "t,n\n2025-11-01T05:00:00Z,1\n2025-11-01T07:00:00+01:00,2\n")
    frame = read_result_files([path], [OutputColumn("t", "TIMESTAMP"), OutputColumn("n", "LONG")])
    assert str(frame["t"].dtype) == "datetime64[us]"
    assert frame["t"].tolist() == [pd.Timestamp("2025-11-01 05:00"), pd.Timestamp("2025-11-01 06:00")]


def test_a_header_only_file_and_no_file_at_all_keep_the_columns(tmp_path):
    empty = read_result_files(write(tmp_path, HEADER), COLUMNS)
    assert len(empty) == 0 and empty.dtypes.astype(str).to_dict() == EXPECTED_DTYPES
    nothing = read_result_files([], COLUMNS)
    assert list(nothing.columns) == [c.name for c in COLUMNS]
    assert nothing.dtypes.astype(str).to_dict() == EXPECTED_DTYPES


def test_columns_amc_did_not_declare_are_inferred(tmp_path):
    [path] = write(tmp_path, "a,extra\n1,x\n")
    frame = read_result_files([path], [OutputColumn("a", "LONG")])
    assert frame.dtypes.astype(str).to_dict() == {"a": "Int64", "extra": "string"}


def test_a_file_that_contradicts_its_types_is_an_execution_error(tmp_path):
    [path] = write(tmp_path, "n\nnot-a-number\n")
    with pytest.raises(ExecutionError) as caught:
        read_result_files([path], [OutputColumn("n", "LONG")])
    assert "0.csv" in caught.value.message


@pytest.mark.parametrize(
    ("amc", "arrow"),
    [("LONG", "int64"), ("decimal(10,2)", "double"), ("BOOLEAN", "bool"), ("DATE", "date32[day]"), ("MAP", "string")],
)
def test_arrow_types(amc, arrow):
    assert str(arrow_type(amc)) == arrow


async def test_the_engine_downloads_every_file_concurrently():
    clock = SimulatedClock()
    amc = FakeAmc(
        clock,
        files=[PART_1.encode(), PART_2.encode(), HEADER.encode()],
        columns=[{"name": c.name, "dataType": c.data_type} for c in COLUMNS],
    )
    amc.download_pause = 0.01
    result = await make_engine(amc).run(ExecutionRequest(INSTANCE, sql="SELECT 1"))
    assert result.files == 3 and len(result.frame) == 3 and amc.peak_downloads == 3
    assert result.frame.dtypes.astype(str).to_dict() == EXPECTED_DTYPES
    assert result.size_bytes == len(PART_1) + len(PART_2) + len(HEADER)


async def test_an_expired_link_is_replaced_once():
    clock = SimulatedClock()
    amc = FakeAmc(clock, files=[PART_1.encode(), PART_2.encode()])
    original = amc._link

    def links_that_expire_once(execution, number):
        url = original(execution, number)
        if amc.expired_links == 0 and number == len(execution.files) - 1:
            amc.expired_links = 1  # the first links expire before they are used
        return url

    amc._link = links_that_expire_once
    result = await make_engine(amc).run(ExecutionRequest(INSTANCE, sql="SELECT 1"))
    assert len(result.frame) == 3
    asked = [r for r in amc.requests if r.url.path.endswith("/downloadUrls")]
    assert len(asked) == 2


def test_many_files_parsed_side_by_side_keep_their_order_and_dtypes(tmp_path):
    parts = [HEADER + f"{n},{n},1.5,2,0.5,true,2025-11-01,2025-11-01 05:00:00,c{n},[]\n" for n in range(9)]
    frame = read_result_files(write(tmp_path, *parts), COLUMNS)
    assert frame["campaign_id"].tolist() == list(range(9))
    assert frame["campaign"].tolist() == [f"c{n}" for n in range(9)]
    assert frame.dtypes.astype(str).to_dict() == EXPECTED_DTYPES


def test_files_with_their_columns_in_another_order_are_aligned(tmp_path):
    paths = write(tmp_path, "a,b\n1,x\n", "b,a\ny,2\n")
    frame = read_result_files(paths, [OutputColumn("a", "LONG"), OutputColumn("b", "STRING")])
    assert frame.to_dict("list") == {"a": [1, 2], "b": ["x", "y"]}


def test_files_that_disagree_on_their_columns_are_an_execution_error(tmp_path):
    with pytest.raises(ExecutionError):
        read_result_files(write(tmp_path, "a\n1\n", "b\n2\n"), [OutputColumn("a", "LONG")])


async def test_a_result_file_that_does_not_parse_fails_the_execution():
    clock = SimulatedClock()
    amc = FakeAmc(clock, files=[b"campaign,impressions\nSpring,10\n", b"campaign,impressions\nSummer,lots\n"])
    with pytest.raises(ExecutionError) as caught:
        await make_engine(amc).run(ExecutionRequest(INSTANCE, sql="SELECT 1"))
    assert "part-00001.csv" in caught.value.message


def parse_in_blocks(*writes, columns=COLUMNS, block_bytes=64):
    """Write ``writes`` into one BlockParser with tiny blocks; return its table as a DataFrame."""
    with Blocks(block_bytes) as blocks:
        parser = BlockParser(blocks, column_types(columns))
        for data in writes:
            parser.write(data)
        return tables_to_frame([parser.table()], column_types(columns))


def test_lines_cut_across_blocks_and_writes_parse_as_one_file():
    rows = [f"{n},{n % 3},1.5,2,0.5,{'true' if n % 2 else ''},2025-11-01,,c{n},x\n" for n in range(50)]
    body = (HEADER + "".join(rows)).encode()
    frame = parse_in_blocks(*(body[i : i + 7] for i in range(0, len(body), 7)))  # pieces cut mid-line
    assert frame["campaign_id"].tolist() == list(range(50))
    assert frame["new_to_brand"].tolist() == [True if n % 2 else pd.NA for n in range(50)]
    assert frame["first_seen"].isna().all() and frame.dtypes.astype(str).to_dict() == EXPECTED_DTYPES


def test_a_line_longer_than_a_block_and_a_missing_last_newline():
    long = "y" * 500
    frame = parse_in_blocks(f"a,b\n1,{long}\n2,z".encode(), columns=[OutputColumn("a", "LONG"), OutputColumn("b", "STRING")])
    assert frame.to_dict("list") == {"a": [1, 2], "b": [long, "z"]}


def test_crlf_line_ends_and_a_zoned_timestamp_in_a_later_block():
    rows = "".join(f"2025-11-01 0{n % 10}:00:00,{n}\r\n" for n in range(20)) + "2025-11-01T07:00:00+01:00,20\r\n"
    frame = parse_in_blocks(b"t,n\r\n" + rows.encode(), columns=[OutputColumn("t", "TIMESTAMP"), OutputColumn("n", "LONG")])
    assert str(frame["t"].dtype) == "datetime64[us]" and frame["n"].tolist() == list(range(21))
    assert frame["t"].iloc[-1] == pd.Timestamp("2025-11-01 06:00")


def test_a_retried_download_starts_again_from_nothing():
    with Blocks(64) as blocks:
        parser = BlockParser(blocks, column_types([OutputColumn("n", "LONG")]))
        parser.write(b"n\n" + b"1\n" * 100)  # an attempt that broke off
        parser.seek(0)
        parser.truncate()
        parser.write(b"n\n7\n8\n")
        assert parser.tell() == 6
        assert parser.table().column("n").to_pylist() == [7, 8]


def test_the_block_buffers_are_freed_when_the_parse_is_over_not_with_the_result():
    types = column_types([OutputColumn("n", "LONG")])
    with Blocks(1 << 16) as blocks:
        parser = BlockParser(blocks, types)
        parser.write(b"n\n" + b"12345\n" * 100_000)  # about ten blocks, parsed two at a time
        table = parser.table()
        held = MEMORY_POOL.bytes_allocated()
    assert MEMORY_POOL.bytes_allocated() <= held - (1 << 16)  # at least one spare buffer gone
    assert table.column("n").to_pylist() == [12345] * 100_000


def test_a_bad_value_in_a_later_block_names_its_file(tmp_path):
    [path] = write(tmp_path, "n\n" + "1\n" * (2 << 20) + "oops\n")  # several real blocks
    with pytest.raises(ExecutionError) as caught:
        read_result_files([path], [OutputColumn("n", "LONG")])
    assert "0.csv" in caught.value.message and "oops" in caught.value.message


def test_numeric_columns_are_writable_and_nulls_are_the_dtypes_own(tmp_path):
    frame = read_result_files(write(tmp_path, PART_1, PART_2), COLUMNS)
    assert frame["cost"].isna().tolist() == [False, True, False]
    frame.loc[0, "cost"] = 9.0
    frame.loc[1, "campaign_id"] = 5
    assert frame["cost"].iloc[0] == 9.0 and frame["campaign_id"].tolist() == [1, 5, 3]


def test_an_empty_file_is_an_execution_error(tmp_path):
    with pytest.raises(ExecutionError) as caught:
        read_result_files(write(tmp_path, ""), COLUMNS)
    assert "0.csv" in caught.value.message
