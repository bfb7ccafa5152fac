"""The standard analyses: metadata, rendering, AMC's checks, a run on the sandbox, and their plots.

Each analysis is rendered with sample values, checked with ``amc_magic.sqlcheck`` against the bundled
schema (unknown names are errors), and run through ``Analysis.run`` (``amc_magic.query``) on an
embedded sandbox over the query corpus's fixed data (to 2026-03-31), with thresholds on, for March 2026.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources

import matplotlib
import pandas as pd
import pytest
from corpus.corpus_support import CORPUS_DATA, CORPUS_NOW

from amc_magic import analyses, schema
from amc_magic.errors import NotFoundError, OptionError, ParameterError
from amc_magic.params import placeholders
from amc_magic.sandbox.app import Sandbox
from amc_magic.sandbox.config import SandboxConfig
from amc_magic.session import Session
from amc_magic.sqlcheck import check, details, errors

matplotlib.use("Agg")

NAMES = [
    "reach_frequency",
    "frequency_distribution",
    "campaign_overlap",
    "path_to_conversion",
    "new_to_brand",
    "time_to_conversion",
    "search_term_performance",
    "channel_mix",
]
CAMPAIGNS = ["Northwind - Always On Prospecting", "Lumen - Remarketing", "Cobalt - Brand Awareness Video"]
SAMPLE_VALUES = {"campaigns": CAMPAIGNS}
DTYPES = {"STRING": "string", "LONG": "Int64", "DOUBLE": "float64", "DECIMAL": "float64"}


def sample_values(analysis: analyses.Analysis) -> dict:
    return {p.name: SAMPLE_VALUES[p.name] for p in analysis.parameters if p.required}


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """A session whose sandbox holds the corpus's data, its clock on 2 April 2026."""
    config = SandboxConfig(
        data=CORPUS_DATA, data_cache_dir=tmp_path_factory.mktemp("analyses-data"), clock=lambda: CORPUS_NOW
    )
    sandbox = Sandbox(config)
    history = tmp_path_factory.mktemp("analyses-history") / "history.db"
    session = Session(database_url=f"sqlite:///{history}", sandbox_app=sandbox.app, now=lambda: CORPUS_NOW)
    yield session
    session.close()
    sandbox.close()


@pytest.fixture(scope="module")
def results(session: Session) -> dict[str, pd.DataFrame]:
    """Each analysis's March 2026 result, run once for the module."""
    return {
        name: analyses.get_analysis(name).run(
            sample_values(analyses.get_analysis(name)), start="2026-03-01", end="2026-03-31", session=session
        )
        for name in NAMES
    }


# --- the catalogue ------------------------------------------------------------------------------


def test_the_library_lists_every_analysis_for_a_dataframe():
    listed = pd.DataFrame(analyses.list_analyses())
    assert list(listed["name"]) == [f"analyses/{name}" for name in NAMES]
    assert list(listed.columns) == ["name", "title", "parameters", "columns", "plot", "description"]
    assert listed["title"].str.len().min() > 10
    row = listed.set_index("name").loc["analyses/frequency_distribution"]
    assert row["parameters"] == "campaigns: list[str] (required); max_frequency: int (default 10)"
    assert row["columns"] == "campaign, frequency, users, impressions"


def test_analyses_are_found_by_short_or_full_name():
    assert analyses.get_analysis("channel_mix") is analyses.get_analysis("analyses/channel_mix")
    with pytest.raises(NotFoundError, match="no standard analysis 'reach'.*reach_frequency"):
        analyses.get_analysis("reach")


@pytest.mark.parametrize("name", NAMES)
def test_metadata_matches_the_sql(name: str):
    analysis = analyses.get_analysis(name)
    assert analysis.name == f"analyses/{name}"
    assert analysis.title and analysis.description and analysis.source.startswith("AMC instructional query")
    assert set(placeholders(analysis.sql)) == {p.name for p in analysis.parameters}
    assert all(c.type in DTYPES for c in analysis.columns)
    assert all(p.description for p in analysis.parameters) and all(c.description for c in analysis.columns)
    assert len({c.name for c in analysis.columns}) == len(analysis.columns)


@pytest.mark.parametrize("name", NAMES)
def test_the_sql_ships_as_package_data(name: str):
    sql = resources.files("amc_magic.analyses").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")
    assert sql == analyses.get_analysis(name).sql


# --- parameters and checks ----------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_each_analysis_renders_and_passes_amc_checks(name: str):
    analysis = analyses.get_analysis(name)
    sql = analysis.render(sample_values(analysis))
    assert "{{" not in sql
    problems = check(sql, tables=schema.TABLES, unknown_columns="error")
    assert not errors(problems), details(errors(problems))
    assert "user_id" not in {c.name for c in analysis.columns}


def test_list_parameters_render_for_in():
    sql = analyses.get_analysis("reach_frequency").render(campaigns=["Spring", "Men's"])
    assert "WHERE campaign IN ('Spring', 'Men''s')" in sql


def test_defaults_apply_and_can_be_overridden():
    analysis = analyses.get_analysis("frequency_distribution")
    assert analysis.values(campaigns=["a"]) == {"campaigns": ["a"], "max_frequency": 10}
    assert "LEAST(user_impressions, 5)" in analysis.render({"campaigns": ["a"]}, max_frequency=5)


@pytest.mark.parametrize(
    ("name", "values", "message"),
    [
        ("reach_frequency", {}, "analyses/reach_frequency needs a value for campaigns"),
        ("reach_frequency", {"campaigns": []}, "must be a non-empty list of strings"),
        ("reach_frequency", {"campaigns": "Spring"}, r"must be of type list\[str\]"),
        ("reach_frequency", {"campaigns": ["a"], "start": "2026-03-01"}, "has no parameter start"),
        ("frequency_distribution", {"campaigns": ["a"], "max_frequency": "10"}, "must be of type int"),
        ("frequency_distribution", {"campaigns": ["a"], "max_frequency": True}, "must be of type int"),
        ("path_to_conversion", {"include_non_purchasers": 1}, "must be of type bool"),
        ("channel_mix", {"campaigns": ["a"]}, "its parameters: none"),
    ],
    ids=["missing", "empty-list", "string-for-list", "unknown", "string-for-int", "bool-for-int", "int-for-bool",
         "no-parameters"],
)
def test_bad_values_name_the_parameter(name: str, values: dict, message: str):
    with pytest.raises(ParameterError, match=message):
        analyses.get_analysis(name).values(values)


# --- on the sandbox -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_each_analysis_returns_its_documented_columns_on_the_sandbox(name: str, results: dict[str, pd.DataFrame]):
    analysis, frame = analyses.get_analysis(name), results[name]
    assert list(frame.columns) == [c.name for c in analysis.columns]
    assert {c.name: str(frame[c.name].dtype) for c in analysis.columns} == {
        c.name: DTYPES[c.type] for c in analysis.columns
    }
    assert len(frame) > 0, "every row was removed by the aggregation thresholds"


def test_results_are_plausible(results: dict[str, pd.DataFrame]):
    reach = results["reach_frequency"]
    assert set(reach["campaign"]) <= set(CAMPAIGNS)
    assert (reach["avg_frequency"] >= 1).all() and (reach["impressions"] >= reach["reach"]).all()
    distribution = results["frequency_distribution"]
    assert distribution["frequency"].between(1, 10).all()
    assert set(results["channel_mix"]["channel"]) >= {"dsp", "sponsored_products"}
    paths = results["path_to_conversion"]
    assert (paths["users_that_purchased"] <= paths["users"]).all()
    assert paths["conversion_rate"].between(0, 1).all()
    timing = results["time_to_conversion"]
    assert (timing["purchases_within_1d"] <= timing["purchases_within_3d"]).all()
    assert (timing["purchases_within_7d"] <= timing["purchases"]).all()


# --- plots --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_plot_returns_a_matplotlib_figure(name: str, results: dict[str, pd.DataFrame]):
    from matplotlib import pyplot as plt
    from matplotlib.figure import Figure

    analysis = analyses.get_analysis(name)
    figure = analysis.plot(results[name])
    assert isinstance(figure, Figure) and figure.axes
    plt.close(figure)
    own, ax = plt.subplots()
    assert analysis.plot(results[name], ax) is own
    plt.close(own)


def test_plot_refuses_a_frame_of_another_analysis(results: dict[str, pd.DataFrame]):
    with pytest.raises(OptionError, match="not a result of analyses/channel_mix"):
        analyses.get_analysis("channel_mix").plot(results["reach_frequency"])
