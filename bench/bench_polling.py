"""Polling efficiency of the engine on a simulated clock, next to the old fixed 15-second poll.

For runs of 10 s, 1 min, 15 min, 1 h and 6 h, the real engine and client drive a scripted AMC
(``httpx.MockTransport``) whose execution succeeds after that long. Each length is run at 11 lengths
spread over its next tenth (the run's end falls anywhere between two polls), and the table shows
the status calls and the delay between the end of the run and the poll that noticed it: the mean
and the worst case.

Targets: at most 80 status calls for an hour-long run; a delay under 10 % of the run's length, or
under 1 s for runs of 10 s or less. The worst delay is shown with its share of that run's length.

Usage: ``python bench/bench_polling.py``
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import uuid
from dataclasses import dataclass

import httpx

from amc_magic.client import AmcClient, Credentials, Endpoints, InstanceRef
from amc_magic.engine import Engine, ExecutionRequest, PollSchedule, SimulatedClock

INSTANCE = InstanceRef("amcbench01", "ENTITYBENCH", "ATVPDKIKX0DER")
LENGTHS = [("10 s", 10.0), ("1 min", 60.0), ("15 min", 900.0), ("1 h", 3600.0), ("6 h", 21600.0)]
SEED_SCHEDULE = PollSchedule(minimum=15.0, ratio=0.0, ceiling=15.0)
SAMPLES = 11


@dataclass(frozen=True)
class Outcome:
    length: float
    status_calls: int
    delay: float

    @property
    def share(self) -> float:
        """The delay as a fraction of the run's length."""
        return self.delay / self.length


class ScriptedAmc:
    """One execution that runs ``length`` simulated seconds after its creation, then succeeds."""

    def __init__(self, clock: SimulatedClock, length: float) -> None:
        self.clock = clock
        self.length = length
        self.created = 0.0
        self.status_calls = 0
        self.noticed: float | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "Atza|bench", "expires_in": 3600})
        if request.url.host == "s3.bench":
            return httpx.Response(200, content=b"n\n1\n")
        if path.endswith("/downloadUrls"):
            return httpx.Response(200, json={"downloadUrls": ["https://s3.bench/1.csv"]})
        if request.method == "POST":
            self.created = self.clock.monotonic()
            return httpx.Response(200, json={"workflowExecutionId": str(uuid.uuid4()), "status": "PENDING"})
        self.status_calls += 1
        done = self.clock.monotonic() - self.created >= self.length
        if done and self.noticed is None:
            self.noticed = self.clock.monotonic() - self.created
        body = {"workflowExecutionId": "e", "status": "SUCCEEDED" if done else "RUNNING"}
        if done:
            body["outputColumns"] = [{"name": "n", "dataType": "LONG"}]
        return httpx.Response(200, json=body)


async def measure(length: float, schedule: PollSchedule) -> Outcome:
    """Run one execution of ``length`` seconds and count its status calls."""
    clock = SimulatedClock()
    amc = ScriptedAmc(clock, length)
    client = AmcClient(
        Credentials("bench", "bench", "bench"),
        endpoints=Endpoints("https://amc.bench", "https://amc.bench/token"),
        transport=httpx.MockTransport(amc),
        sleep=clock.sleep,
        clock=clock.monotonic,
    )
    engine = Engine(client, schedule=schedule, clock=clock.monotonic, now=clock.now, sleep=clock.sleep)
    await engine.run(ExecutionRequest(INSTANCE, sql="SELECT 1"))
    await client.aclose()
    assert amc.noticed is not None
    return Outcome(length, amc.status_calls, amc.noticed - length)


async def sweep(length: float, schedule: PollSchedule) -> list[Outcome]:
    """The run at ``SAMPLES`` lengths from ``length`` to 1.1 x ``length``."""
    return [await measure(length * (1 + 0.1 * i / (SAMPLES - 1)), schedule) for i in range(SAMPLES)]


def row(label: str, length: float, ours: list[Outcome], seed: list[Outcome]) -> str:
    def cells(outcomes: list[Outcome]) -> str:
        calls = statistics.mean(o.status_calls for o in outcomes)
        mean_delay = statistics.mean(o.delay for o in outcomes)
        worst = max(outcomes, key=lambda o: o.share)
        return f"{calls:.0f} | {mean_delay:.1f} s | {worst.delay:.1f} s ({100 * worst.share:.1f} %)"

    delays_ok = all(o.delay < 1.0 if o.length <= 10 else o.share < 0.1 for o in ours)
    met = delays_ok and (length != 3600 or max(o.status_calls for o in ours) <= 80)
    return f"| {label} | {cells(ours)} | {cells(seed)} | {'yes' if met else 'NO'} |"


async def main() -> int:
    print(f"Adaptive schedule: {PollSchedule()}; seed: a status call every 15 s.\n")
    print("| run | calls | mean delay | worst delay | seed calls | seed mean delay | seed worst delay | target met |")
    print("|---|---:|---:|---:|---:|---:|---:|:---:|")
    failures = 0
    for label, length in LENGTHS:
        ours, seed = await sweep(length, PollSchedule()), await sweep(length, SEED_SCHEDULE)
        line = row(label, length, ours, seed)
        failures += line.endswith("NO |")
        print(line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
