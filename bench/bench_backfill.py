"""A backfill's wall time against the ideal: 52 weekly windows at concurrency 10 on the embedded sandbox.

The sandbox holds every execution RUNNING for a fixed ``run_seconds`` (R), so ten executions in
flight at a time can at best finish 52 periods in ``ceil(52 / 10) = 6`` waves of R each: the ideal,
``6 x R``. Ours is the wall time of the whole backfill through a ``Session`` (planning, then
``start_backfill`` and waiting for the combined frame: claims in the history database, submits,
polls, downloads, stored results), in a fresh SQLite history for each repeat so that no period comes
from the cache. For context, the same query over one week run once (``cache=false``) in the same
session gives a second ideal, ``6 x`` one execution's wall time, which counts what a single execution
costs beyond R (a poll interval, the download). Each wave's timeline, from the sandbox's and the
history's timestamps, shows where the time beyond R goes.

Usage: ``python bench/bench_backfill.py [--quick]``
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

RUN_SECONDS = 1.5
PERIODS = 52
CONCURRENCY = 10
START, END = "2025-01-06", "2026-01-04"  # Monday to Sunday: exactly 52 calendar weeks
SQL = "SELECT campaign, COUNT(DISTINCT user_id) AS reach, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign"
TARGET = 1.1


def collect(quick: bool = False) -> dict[str, object]:
    """Measure; return the detail lines (markdown) and the summary rows."""
    import amc_magic
    from amc_magic.backfill import BackfillRequest
    from amc_magic.history import HistoryStore
    from amc_magic.sandbox.app import create_app
    from amc_magic.sandbox.config import SandboxConfig
    from amc_magic.sandbox.data import DataSpec
    from amc_magic.session import Session

    repeats, singles_per_repeat = (1, 3) if quick else (3, 5)
    waves = math.ceil(PERIODS / CONCURRENCY)
    ideal = waves * RUN_SECONDS
    spec = DataSpec(today=date(2026, 2, 1), scale=0.05)  # fixed data: 2025-01-01 to 2026-01-30
    walls: list[float] = []
    plans: list[float] = []
    singles: list[float] = []
    timelines: list[list[dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="amc-bench-backfill-") as name:
        directory = Path(name)
        app = create_app(SandboxConfig(data=spec, data_cache_dir=directory / "data", run_seconds=RUN_SECONDS))
        for repeat in range(repeats):
            store = HistoryStore.from_url(f"sqlite:///{directory / f'history-{repeat}.sqlite'}")
            session = Session(store=store, sandbox_app=app)
            try:

                def single() -> float:
                    started = time.perf_counter()
                    amc_magic.query(SQL, instance="sandbox", start=START, end="2025-01-12", cache="false", session=session)
                    return time.perf_counter() - started

                single()  # warm-up: data generated or opened, engine and client made, store migrated
                singles += [single() for _ in range(singles_per_repeat)]
                request = BackfillRequest(SQL, {}, instances=("sandbox",), start=START, end=END, every="week", concurrency=CONCURRENCY)
                started = time.perf_counter()
                plan = session.plan_backfill(request)
                planned = time.perf_counter()
                job = session.start_backfill(plan)
                stored = _stored_times(job)
                frame = session.wait(job)
                walls.append(time.perf_counter() - started)
                plans.append(planned - started)
                assert len(plan.cells) == PERIODS and frame["window_start"].nunique() == PERIODS, "not 52 weekly periods"
                timelines.append(_timeline(session, app, plan.backfill_id, stored, started))
            finally:
                session.close()
        app.state.sandbox.close()
    wall, plan_seconds, one = statistics.median(walls), statistics.median(plans), statistics.median(singles)
    ideal_single = waves * one
    ratio = wall / ideal
    best = walls.index(min(walls))
    lines = [
        f"{PERIODS} weekly periods ({START} to {END}) of `{SQL}`, concurrency {CONCURRENCY}, sandbox run_seconds "
        f"R = {RUN_SECONDS} s (max_running 10, scale 0.05, fixed data); {repeats} repeat(s), each in a fresh SQLite "
        f"history (nothing from the cache); median wall times.",
        "",
        "| measure | seconds | ratio to ideal |",
        "|---|---:|---:|",
        f"| ideal: ceil({PERIODS}/{CONCURRENCY}) x R = {waves} x {RUN_SECONDS} | {ideal:.2f} | 1.00x |",
        f"| one execution of the same query (one week, cache=false), median of {len(singles)} | {one:.2f} | |",
        f"| ideal from one execution: {waves} x {one:.2f} | {ideal_single:.2f} | {ideal_single / ideal:.2f}x |",
        f"| **backfill, whole** (min {min(walls):.2f}, max {max(walls):.2f}) | **{wall:.2f}** | **{ratio:.2f}x** "
        f"({wall / ideal_single:.2f}x the ideal from one execution) |",
        f"| of which planning (render and check {PERIODS} periods) | {plan_seconds:.2f} | |",
        "",
        f"Fastest repeat, wave by wave (seconds from the start of the backfill; a wave is {CONCURRENCY} executions in "
        "the order the sandbox created them; \"noticed\" is when the history recorded SUCCEEDED, \"stored\" when the "
        "result was in the history and the slot was freed):",
        "",
        "| wave | created (first-last) | sandbox finished (last) | noticed (last) | stored (last) | wave length | beyond R |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += _wave_rows(timelines[best])
    notice, store_delay, reuse, first = _latencies(timelines)
    per_wave = (wall - first - ideal) / waves
    enough = (first + waves * per_wave) / ((TARGET - 1) * waves)
    lines += [
        "",
        f"Where the time beyond R goes (means over every execution of every repeat): the first execution created "
        f"{first:.2f} s after the start (planning, then the first claim); sandbox finished to noticed {notice:.3f} s "
        "(the embedded sandbox is polled every max(0.05 s, 0.02 x age): `PollSchedule(minimum=0.05, ratio=0.02)` in "
        f"`connector.default_engine_factory`); noticed to stored (download, parse, write) {store_delay:.3f} s; a "
        f"result stored to the next execution created (slot wake-up, claim, create) {reuse:.3f} s (it can be below "
        "zero: the history stops counting an execution against the cap once SUCCEEDED is recorded, before its "
        f"download). Each wave adds about {per_wave:.2f} s to R, so the ratio is about 1 + {per_wave:.2f} / R: "
        f"the target holds from R = {enough:.1f} s, and the same overhead makes one execution "
        f"{one - RUN_SECONDS:.2f} s longer than R.",
    ]
    rows = [
        dict(
            path=f"backfill, {PERIODS} weekly periods at concurrency {CONCURRENCY}, sandbox run time {RUN_SECONDS} s: wall time",
            baseline=f"{ideal:.1f} s (ideal: {waves} x R; {ideal_single:.1f} s from one execution's {one:.2f} s)",
            ours=f"{wall:.1f} s",
            ratio=f"{ratio:.2f}x",
            target=f"<= {TARGET}x ideal",
            met=ratio <= TARGET,
        )
    ]
    return {"lines": lines, "rows": rows}


def _stored_times(job: Any) -> dict[str, float]:
    """When each cell's job ended (its result stored, its slot freed), by local id, as epoch seconds."""
    ended: dict[str, float] = {}
    for cell_job in job.jobs:
        cell_job.add_done_callback(lambda j=cell_job: ended.__setitem__(j.local_id, time.time()))
    return ended


def _timeline(session: Any, app: Any, backfill_id: str, stored: dict[str, float], started: float) -> list[dict[str, float]]:
    """Per execution, in the sandbox's creation order: created, sandbox finished, noticed, stored (seconds from the start)."""
    origin = time.time() - (time.perf_counter() - started)
    sandbox = {e.execution_id: e for e in app.state.sandbox.api.executions.all()}

    def at(moment: datetime | None) -> float:
        return math.nan if moment is None else moment.timestamp() - origin

    cells = []
    for record in session.store.backfill_executions(backfill_id):
        amc = sandbox[record.amc_execution_id]
        cells.append(
            dict(
                created=at(amc.created_at),
                finished=at(amc.finished_at),
                noticed=at(record.finished_at),
                stored=stored.get(record.id, math.nan) - origin,
            )
        )
    return sorted(cells, key=lambda cell: cell["created"])


def _wave_rows(cells: list[dict[str, float]]) -> list[str]:
    rows, previous_end = [], 0.0
    for index in range(0, len(cells), CONCURRENCY):
        wave = cells[index : index + CONCURRENCY]
        end = max(c["stored"] for c in wave)
        length = end - previous_end
        rows.append(
            f"| {index // CONCURRENCY + 1} | {min(c['created'] for c in wave):.2f}-{max(c['created'] for c in wave):.2f} "
            f"| {max(c['finished'] for c in wave):.2f} | {max(c['noticed'] for c in wave):.2f} | {end:.2f} "
            f"| {length:.2f} | {length - RUN_SECONDS:+.2f} |"
        )
        previous_end = end
    return rows


def _latencies(timelines: list[list[dict[str, float]]]) -> tuple[float, float, float, float]:
    """Mean notice delay, store delay, stored-to-next-created delay, and first create, over every repeat."""
    notice, stored, reuse, first = [], [], [], []
    for cells in timelines:
        notice += [c["noticed"] - c["finished"] for c in cells]
        stored += [c["stored"] - c["noticed"] for c in cells]
        first.append(cells[0]["created"])
        freed = sorted(c["stored"] for c in cells)
        created = sorted(c["created"] for c in cells)[CONCURRENCY:]  # the k-th freed slot takes the k-th later cell
        reuse += [made - free for made, free in zip(created, freed)]
    return statistics.mean(notice), statistics.mean(stored), statistics.mean(reuse), statistics.mean(first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat")
    print("\n".join(collect(parser.parse_args().quick)["lines"]))


if __name__ == "__main__":
    main()
