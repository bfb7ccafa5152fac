"""`amc-magic` failures that stop before anything runs: one line on stderr, a non-zero exit."""

import pytest

from amc_magic.cli import main

SQL = "SELECT campaign, SUM(impressions) AS i FROM dsp_impressions WHERE campaign IN ({{c}}) GROUP BY campaign"


@pytest.fixture
def query_file(tmp_path):
    path = tmp_path / "q.sql"
    path.write_text(SQL, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--param", "c=a", "--param", "c=b"], "--param c is given twice"),
        (["--param", "c=a", "-o", "missing-dir/out.csv"], "its directory does not exist"),
        (["--param", "c=a", "-o", "out.xlsx"], "must end in .csv or .parquet"),
        (["--param", "c=a", "--timeout", "nan"], "not a positive number of seconds"),
        ([], "Hint: Pass it with --param c=VALUE."),
        (["--param", "c=a", "--window", "last_7_days", "--start", "2026-03-01"], "cannot be combined"),
    ],
    ids=["duplicate-param", "missing-output-dir", "bad-output-type", "nan-timeout", "undefined-param", "window-and-start"],
)
def test_one_line_and_non_zero_exit(query_file, tmp_path, monkeypatch, capsys, extra, expected):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(["run", str(query_file), "--instance", "sandbox", "--quiet", *extra])
    except SystemExit as exit_:  # argparse's own usage errors exit from the parser
        code = exit_.code
    err = capsys.readouterr().err
    assert code != 0
    assert expected in err
    assert len(err.strip().splitlines()) == 1


def test_a_file_that_is_not_utf8(tmp_path, capsys):
    path = tmp_path / "latin1.sql"
    path.write_bytes("SELECT 'caf\xe9'".encode("latin-1"))
    assert main(["run", str(path), "--instance", "sandbox"]) == 1
    assert "is not UTF-8 text" in capsys.readouterr().err
