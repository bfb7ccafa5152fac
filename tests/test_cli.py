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
        (["--param", "c=a", "--concurrency", "3"], "--concurrency applies to a backfill (--every or --instance a,b)"),
        (["--param", "c=a", "--week-start", "sunday"], "--week-start applies to a backfill"),
    ],
    ids=[
        "duplicate-param",
        "missing-output-dir",
        "bad-output-type",
        "nan-timeout",
        "undefined-param",
        "window-and-start",
        "concurrency-without-backfill",
        "week-start-without-backfill",
    ],
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


def test_sandbox_serve_on_a_port_it_cannot_have_fails_in_one_line_before_serving(capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["sandbox", "serve", "--port", str(port)]) == 1
    assert main(["sandbox", "serve", "--port", "99999"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith(f"amc-magic: Cannot listen on 127.0.0.1:{port}: ") and "Hint: Pass --port" in err[0]
    assert err[1] == "amc-magic: Port 99999 is not a TCP port. Hint: Pass --port with a number from 1 to 65535 (0: any free port)."
    assert len(err) == 2  # nothing announced, nothing served
