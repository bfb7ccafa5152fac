"""Benchmarks of amc_magic's hot paths, each measured against a baseline in the same run.

``python -m bench [--quick]`` runs them all and rewrites ``BENCHMARKS.md``; each module also runs on
its own (``python bench/bench_polling.py``, ...) and prints its detail table. Every module has a
``collect(quick=...)`` returning ``{"lines": [...markdown...], "rows": [...summary rows...]}``; a
summary row is a dict with ``path``, ``baseline``, ``ours``, ``ratio``, ``target`` and ``met``
(``None`` when there is no target to judge against).
"""
