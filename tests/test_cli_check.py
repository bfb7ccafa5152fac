"""`amc-magic check`: the local checks over SQL files, one `path:line:column: severity: message` line each."""

import os
from pathlib import Path

import pytest

from amc_magic.cli import main
from amc_magic.filecheck import stand_ins

GOOD = """SELECT campaign, COUNT(DISTINCT user_id) AS reach
FROM dsp_impressions
WHERE campaign_id = {{campaign_id}} AND campaign IN ({{names}})
GROUP BY campaign
"""
BAD = """SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE campaign IN ({{names}}) AND city_name = {{city}}
GROUP BY campaign
LIMIT 10
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def run_check(*args: str) -> int:
    try:
        return main(["check", *args])
    except SystemExit as exit_:
        return int(exit_.code)


def test_a_valid_file_prints_nothing_and_exits_zero(tmp_path, capsys):
    assert run_check(str(write(tmp_path, "good.sql", GOOD))) == 0
    assert capsys.readouterr().out == ""


def test_each_error_is_one_line_located_in_the_file_as_written(tmp_path, capsys):
    path = write(tmp_path, "bad.sql", BAD)

    assert run_check(str(path)) == 1

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    # column 35 is where city_name stands in the file, before the placeholder was rendered
    assert BAD.splitlines()[2][34:].startswith("city_name")
    assert lines[0].startswith(f"{path}:3:35: error: Column 'city_name' has aggregation threshold HIGH")
    assert lines[1].startswith(f"{path}:5:1: error: LIMIT (or FETCH FIRST) is not supported")


def test_a_position_after_a_rendered_placeholder_maps_back_to_the_file(tmp_path, capsys):
    text = "SELECT campaign, SUM(impressions) AS i FROM dsp_impressions\nWHERE campaign IN ({{names}}) AND campain = 'x'\nGROUP BY campaign"
    path = write(tmp_path, "typo.sql", text)

    assert run_check(str(path), "--param", 'names=["Lumen - Remarketing", "Northwind - Spring Collection"]') == 1

    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{path}:2:35: error: Column 'campain' not found")
    assert text.splitlines()[1][34:].startswith("campain")


def test_warnings_alone_exit_zero(tmp_path, capsys):
    path = write(tmp_path, "deep.sql", "SELECT campaign, SUM(impressions) AS i FROM dsp_impressions GROUP BY campaign")
    assert run_check(str(path)) == 0


def test_several_files_and_an_unreadable_one(tmp_path, capsys):
    good, bad = write(tmp_path, "good.sql", GOOD), write(tmp_path, "bad.sql", BAD)
    missing = tmp_path / "missing.sql"

    assert run_check(str(good), str(bad), str(missing)) == 1

    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == [str(bad), str(bad), str(missing)]
    assert out[-1] == f"{missing}:1:1: error: Cannot read '{missing}': No such file or directory."


def test_a_placeholder_inside_quotes_is_an_error_at_the_placeholder(tmp_path, capsys):
    path = write(tmp_path, "quoted.sql", "SELECT campaign, SUM(impressions) AS i\nFROM dsp_impressions WHERE campaign = '{{name}}'\nGROUP BY campaign")

    assert run_check(str(path)) == 1

    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{path}:2:40: error: {{{{name}}}} is inside quotes")


def test_stand_ins_take_the_type_of_the_compared_column():
    template = "WHERE campaign_id = {{cid}} AND {{flag}} = new_to_brand AND campaign IN ({{names}}) AND x = {{other}}"
    assert stand_ins(template, {"other": 3}) == {"cid": 1, "flag": True, "names": "stand-in"}


def test_checking_writes_no_history(tmp_path, capsys):
    run_check(str(write(tmp_path, "good.sql", GOOD)))
    assert not any(Path(os.environ["JUPYTER_DATA_DIR"]).rglob("*.sqlite"))


@pytest.mark.parametrize("instance", ["amcunknown1"])
def test_an_unknown_instance_is_an_error_line(tmp_path, capsys, instance):
    path = write(tmp_path, "good.sql", GOOD)
    assert run_check(str(path), "--instance", instance) == 1
    assert f"Unknown AMC instance {instance!r}" in capsys.readouterr().out
