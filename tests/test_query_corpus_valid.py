"""The corpus of valid AMC queries (``tests/corpus/valid``): each passes the local checks and runs on the sandbox.

Every file is checked with ``amc_magic.sqlcheck.check`` against the bundled (complete, sandbox) schema
with unknown names as errors, then run as an ad hoc execution on the embedded sandbox over its window
with the privacy thresholds on. It must succeed, name its output columns as its final SELECT does, and
return rows unless its header says ``-- may-be-empty``. The data (15 months at scale 0.5) is generated
once per module into a temporary directory.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from corpus.corpus_support import CorpusQuery, CorpusSandbox, corpus, output_names

from amc_magic import schema
from amc_magic.sqlcheck import check, details, errors

QUERIES = corpus("valid")


def _ids(query: CorpusQuery) -> str:
    return query.name


KNOWN_SANDBOX_BUGS: dict[str, str] = {}  # query name -> the sandbox bug it meets (a strict xfail until fixed)


def _on_sandbox(query: CorpusQuery):
    """The query as a test case; one that meets a known sandbox bug must fail until the bug is fixed (strict)."""
    reason = KNOWN_SANDBOX_BUGS.get(query.name)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(query, id=query.name, marks=marks)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CorpusSandbox]:
    corpus_sandbox = CorpusSandbox(tmp_path_factory.mktemp("corpus-sandbox-data"))
    corpus_sandbox.open()
    yield corpus_sandbox
    corpus_sandbox.close()


def test_the_corpus_is_large_and_well_formed():
    assert len(QUERIES) >= 40
    numbers = [query.name.split("_", 1)[0] for query in QUERIES]
    assert len(set(numbers)) == len(numbers), "two files share a number"
    for query in QUERIES:
        assert query.analysis and query.source, query.name
    assert sum(not query.may_be_empty for query in QUERIES) >= 0.9 * len(QUERIES)


@pytest.mark.parametrize("query", QUERIES, ids=_ids)
def test_query_passes_the_local_checks(query: CorpusQuery):
    problems = errors(check(query.sql, tables=schema.TABLES, unknown_columns="error"))
    assert not problems, details(problems)


@pytest.mark.parametrize("query", [_on_sandbox(q) for q in QUERIES])
def test_query_succeeds_on_the_sandbox_with_thresholds(query: CorpusQuery, sandbox: CorpusSandbox):
    result = sandbox.run(query)
    assert result.status == "SUCCEEDED", result.describe()
    assert [name for name, _ in result.columns] == output_names(query.sql)
    if not query.may_be_empty:
        assert result.rows, f"no row passed the thresholds ({result.filtered_rows} removed)"
