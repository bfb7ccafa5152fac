"""The application service behind the magic, the Python API and the CLI.

A :class:`Session` turns a SQL template, a namespace and options into a result:

1. :meth:`Session.prepare` (in the caller's thread, pure apart from schema lookups): resolve the
   instance, the time window, render ``{{name}}`` parameters, run the SQL checks, and compute the
   cache key. Any mistake raises here, before anything is recorded or submitted.
2. :meth:`Session.start` (on the private loop): answer from the result cache, or attach to an
   identical live execution (this process, another kernel, another analyst on the same
   database), or claim a history row and submit through the engine. The history row exists before
   the create request is sent, and the engine's milestones are written to it as they happen.

It owns the private event loop, the HTTP clients and engines (one per endpoint and credentials),
the embedded sandbox, and the history store, all created on first use.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Protocol

import pandas as pd

from .wallclock import utc_now
from .background import CANCEL_GRACE_SECONDS, BackgroundLoop
from .client import AmcClient, Credentials, Endpoints, InstanceRef
from .engine import Engine, ExecutionEvent, ExecutionRequest, PollSchedule
from .errors import (
    AmcApiError,
    ConfigurationError,
    ExecutionCancelled,
    ExecutionFailed,
    NotFoundError,
    ServerError,
    TransportError,
)
from .history import ExecutionRecord, HistoryStore
from .instances import SANDBOX, Target, embedded_sandbox, resolve_target
from .job import AmcJob
from .prepared import PreparedQuery, prepare_query
from .recording import StoreRecorder
from .report import instances_frame, schema_frame
from .schema import TABLES, Table, tables_from_data_sources

logger = logging.getLogger("amc_magic")

EMBEDDED_POLLING = PollSchedule(minimum=0.2, ratio=0.1, ceiling=5.0)
ATTACH_WAIT_SECONDS = 0.5


class StatusView(Protocol):
    """What the session drives while an execution runs (a panel, text lines, or nothing)."""

    def update(self, event: ExecutionEvent) -> None: ...
    def tick(self) -> None: ...
    def show_note(self, text: str, *, status: str | None = None, execution_id: str | None = None) -> None: ...


ViewFactory = Callable[[str, Callable[[], None]], StatusView]
"""Builds the view for an instance id, given the job's cancel callback."""




class Session:
    """History, instances, engines and the private loop, shared by every cell of a kernel.

    Args:
        database_url: SQLAlchemy URL of the history database (default: ``AMC_MAGIC_DB_URL`` or
            a SQLite file in the Jupyter data directory). Ignored when ``store`` is given.
        store: an open history store to use instead.
        background: the private loop (default: a new one).
        sandbox_app: the ASGI app of the embedded sandbox (default: built on first use).
        environ: where credentials and endpoints are read (default: ``os.environ``).
        now: the wall clock.
    """

    def __init__(
        self,
        *,
        database_url: str | None = None,
        store: HistoryStore | None = None,
        background: BackgroundLoop | None = None,
        sandbox_app: Any = None,
        environ: Mapping[str, str] | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._database_url = database_url
        self._store = store
        self.background = background or BackgroundLoop()
        self._sandbox_app = sandbox_app
        self._owns_sandbox = False
        self._environ = environ
        self._now = now
        self._engines: dict[tuple[str, str, str, bool], Engine] = {}
        self._schemas: dict[str, Mapping[str, Table]] = {}
        self._jobs: set[AmcJob] = set()
        self._lock = threading.Lock()
        self._schema_lock = threading.Lock()

    # --- resources ------------------------------------------------------------------------

    @property
    def store(self) -> HistoryStore:
        """The history store, opened (and migrated) on first use."""
        with self._lock:
            if self._store is None:
                self._store = HistoryStore.from_url(self._database_url)
            return self._store

    def target(self, instance: str) -> Target:
        """Resolve an instance name (``sandbox`` or a connected instance id)."""
        return resolve_target(instance, lambda: self.store, self._environ)

    def close(self) -> None:
        """Stop following executions (they keep running on AMC), close clients, the loop and the store."""
        if self.background.started:
            self.background.run(self._shutdown())
        self.background.close()
        if self._owns_sandbox and self._sandbox_app is not None:
            self._sandbox_app.state.sandbox.close()
            self._sandbox_app = None
        if self._store is not None:
            self._store.close()

    async def _shutdown(self) -> None:
        """Detach from every execution still followed, end its task, then close the HTTP clients."""
        tasks = []
        for job in list(self._jobs):
            if job._handle is not None:
                job._handle.detach()
            if job._task is not None and not job._task.done():
                job._task.cancel()
                tasks.append(job._task)
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._owns_sandbox and self._sandbox_app is not None:
            await self._sandbox_app.state.sandbox.wait_idle()
        engines = list(self._engines.values())
        self._engines.clear()
        for engine in engines:
            await engine.client.aclose()

    def _engine(self, target: Target) -> Engine:
        """The engine for ``target``'s endpoint and credentials (call on the private loop)."""
        engine = self._engines.get(target.client_key)
        if engine is None:
            transport = None
            if target.embedded:
                from .sandbox.transport import SandboxTransport

                transport = SandboxTransport(self._embedded_app())
            client = AmcClient(target.credentials, endpoints=target.endpoints, transport=transport)
            engine = Engine(client, schedule=EMBEDDED_POLLING if target.embedded else None, now=self._now)
            self._engines[target.client_key] = engine
        return engine

    def _embedded_app(self) -> Any:
        if self._sandbox_app is None:
            from .sandbox.app import create_app

            self._sandbox_app = create_app()
            self._owns_sandbox = True
        return self._sandbox_app

    # --- preparing ------------------------------------------------------------------------

    def prepare(
        self,
        sql_template: str,
        namespace: Mapping[str, Any] | None = None,
        *,
        instance: str = SANDBOX,
        start: Any = None,
        end: Any = None,
        window: str | None = None,
        tz: str = "UTC",
        validate: str = "true",
    ) -> PreparedQuery:
        """Resolve, render and check a query without recording or submitting anything.

        Raises:
            OptionError, WindowError, ParameterError, ConfigurationError: bad input.
            SqlCheckError: the checks found errors (unless ``validate`` is ``false`` or ``only``).
        """
        target = self.target(instance)
        return prepare_query(
            sql_template,
            namespace or {},
            target=target,
            now=self._now(),
            start=start,
            end=end,
            window=window,
            tz=tz,
            validate=validate,
            tables=lambda: self._instance_schema(target),
            data_days=self._embedded_data_days() if target.embedded else None,
        )

    def _embedded_data_days(self) -> tuple[date, date]:
        """The first and last day of the embedded sandbox's synthetic data."""
        data = self._embedded_app().state.sandbox.api.data
        return data.first_day, data.last_day

    def _instance_schema(self, target: Target) -> Mapping[str, Table]:
        """The instance's own schema (``GET /dataSources``, read once per session and instance).

        Access and connection errors raise: the execution would meet them too, so the user hears
        of them once, before anything is recorded. A schema AMC serves in an unexpected shape falls
        back to the bundled one: the checks must never block on it.
        """
        with self._schema_lock:
            if target.instance_id not in self._schemas:
                items = self.background.run(self._engine_call(target, "list_data_sources", target.ref))
                try:
                    self._schemas[target.instance_id] = tables_from_data_sources(items) or TABLES
                except (KeyError, TypeError, AttributeError, ValueError) as error:
                    logger.warning("The schema of %s is not in the expected shape (%s); checking against the bundled one", target.instance_id, error)
                    self._schemas[target.instance_id] = TABLES
            return self._schemas[target.instance_id]

    async def _engine_call(self, target: Target, method: str, *args: Any, **kwargs: Any) -> Any:
        return await getattr(self._engine(target).client, method)(*args, **kwargs)

    # --- running --------------------------------------------------------------------------

    def start(
        self,
        prepared: PreparedQuery,
        *,
        view_factory: ViewFactory | None = None,
        cache: str = "true",
        timeout: float | None = None,
        waited: bool = False,
    ) -> AmcJob:
        """Start the query on the private loop and return its job at once.

        Args:
            waited: the caller will wait for the result and sees any error itself (else an error
                of the background job is also logged).
        """
        job = AmcJob(prepared.target.instance_id, self.background.loop)
        job._waited_on = waited
        view = view_factory(prepared.target.instance_id, job.cancel) if view_factory else None
        self._track(job, self.background.submit(self._execute(prepared, job, view, cache, timeout)))
        return job

    def run(
        self,
        prepared: PreparedQuery,
        *,
        view_factory: ViewFactory | None = None,
        cache: str = "true",
        timeout: float | None = None,
    ) -> pd.DataFrame:
        """Run the query and block until its result; an interrupt cancels the AMC execution."""
        return self.wait(self.start(prepared, view_factory=view_factory, cache=cache, timeout=timeout, waited=True))

    def wait(self, job: AmcJob) -> pd.DataFrame:
        """Block on ``job``; a ``KeyboardInterrupt`` cancels it (on AMC too) and propagates."""
        try:
            return job.result()
        except KeyboardInterrupt:
            job.cancel()
            finished = threading.Event()
            job._future.add_done_callback(lambda _: finished.set())  # type: ignore[union-attr]
            finished.wait(CANCEL_GRACE_SECONDS)
            raise

    def _track(self, job: AmcJob, future: Any) -> None:
        job._bind_future(future)
        self._jobs.add(job)  # a strong reference until it ends
        future.add_done_callback(lambda _: self._jobs.discard(job))

    async def _execute(
        self, prepared: PreparedQuery, job: AmcJob, view: StatusView | None, cache: str, timeout: float | None
    ) -> pd.DataFrame:
        job._bind_task()
        store = self.store
        target = prepared.target
        if cache == "true":
            frame = self._from_cache(prepared, job, view)
            if frame is not None:
                return frame
        while True:
            record, created = store.claim_execution(
                instance_id=target.instance_id,
                sql_template=prepared.sql_template,
                rendered_sql=prepared.sql,
                # cache=false neither reads nor reuses: a key of its own never matches another run.
                cache_key=prepared.cache_key if cache != "false" else f"{prepared.cache_key}:once:{uuid.uuid4().hex}",
                parameter_values=prepared.parameter_values,
                window_start=prepared.window.start,
                window_end=prepared.window.end,
                time_zone=prepared.window.time_zone,
                window_type=str(prepared.window.window_type),
                options={"target": target.name, **target.request_options},
            )
            job.local_id = record.id
            if created:
                return await self._submit(prepared, record, job, view, timeout)
            leader = self._leader_of(record.id, job)
            if leader is not None:
                return await self._share(leader, job, view)
            if not record.amc_execution_id and view is not None:
                view.show_note("waiting for an identical execution that another process is submitting")
            amc_id = await self._wait_for_amc_id(record)
            if amc_id is not None:
                if view is not None:
                    view.show_note("attached to an identical execution already running")
                return await self._follow(target, record.id, amc_id, job, view, timeout)
            if cache == "true":
                frame = self._from_cache(prepared, job, view)
                if frame is not None:
                    return frame

    def _leader_of(self, local_id: str, job: AmcJob) -> AmcJob | None:
        """Another job of this session already running the execution ``local_id``, if any."""
        return next(
            (other for other in list(self._jobs) if other is not job and other.local_id == local_id and not other.done()),
            None,
        )

    async def _share(self, leader: AmcJob, job: AmcJob, view: StatusView | None) -> pd.DataFrame:
        """Wait for the identical execution a job of this session is running: no second poll or download.

        Cancelling this job stops only its wait (``shield``); the leader's execution goes on.
        """
        if view is not None:
            view.show_note("attached to an identical execution already running")
            if leader._handle is not None:
                leader._handle.subscribe(view.update)
        frame = await asyncio.shield(asyncio.wrap_future(leader._future))  # type: ignore[arg-type]
        job._bind_execution_id(leader.execution_id)
        return frame

    def _from_cache(self, prepared: PreparedQuery, job: AmcJob, view: StatusView | None) -> pd.DataFrame | None:
        hit = self.store.find_cached(prepared.cache_key)
        frame = self.store.load_result(hit.id) if hit is not None else None
        if hit is None or frame is None:
            return None
        job.local_id = hit.id
        job.from_cache = True
        job._bind_execution_id(hit.amc_execution_id)
        if view is not None:
            when = hit.finished_at or hit.created_at
            view.show_note(
                f"{len(frame):,} rows x {frame.shape[1]} columns from the cache (execution {hit.short_id}, "
                f"{when:%Y-%m-%d %H:%M} UTC); cache=refresh runs it again",
                status="CACHED",
                execution_id=hit.amc_execution_id,
            )
        return frame

    async def _wait_for_amc_id(self, record: ExecutionRecord) -> str | None:
        """Wait until the claimant of ``record`` got its AMC id; None if it gave up without one."""
        while True:
            current = self.store.get_execution(record.id)
            if current.amc_execution_id:
                return current.amc_execution_id
            if not current.is_live:
                return None
            await asyncio.sleep(ATTACH_WAIT_SECONDS)
            self.store.abandon_stale()

    async def _submit(
        self, prepared: PreparedQuery, record: ExecutionRecord, job: AmcJob, view: StatusView | None, timeout: float | None
    ) -> pd.DataFrame:
        request = ExecutionRequest(
            instance=prepared.target.ref,
            sql=prepared.sql,
            options={**prepared.target.request_options, **prepared.window.request_fields()},
        )
        engine = self._engine(prepared.target)
        recorder = StoreRecorder(self.store, record.id)
        handle = engine.submit(request, recorder=recorder, subscribers=_subscribers(view), timeout=timeout)
        return await self._await_handle(handle, recorder, job, view)

    async def _follow(
        self, target: Target, local_id: str, amc_id: str, job: AmcJob, view: StatusView | None, timeout: float | None
    ) -> pd.DataFrame:
        recorder = StoreRecorder(self.store, local_id)
        recorder.submitted = True
        handle = self._engine(target).attach(target.ref, amc_id, recorder=recorder, subscribers=_subscribers(view), timeout=timeout)
        return await self._await_handle(handle, recorder, job, view)

    async def _await_handle(self, handle: Any, recorder: StoreRecorder, job: AmcJob, view: StatusView | None) -> pd.DataFrame:
        job._bind_handle(handle)
        ticker = asyncio.get_running_loop().create_task(_tick(view)) if view is not None else None
        try:
            result = await handle
        except BaseException as error:
            if not recorder.submitted:  # never reached AMC: release the claim with the reason
                cancelled = isinstance(error, (asyncio.CancelledError, ExecutionCancelled))
                reason = "Cancelled before it reached AMC." if cancelled else str(getattr(error, "message", error))
                if isinstance(error, (TransportError, ServerError)):
                    reason += " AMC's answer to the create request was lost, so it may have accepted the execution."
                self.store.record_status(recorder.local_id, "CANCELLED" if cancelled else "FAILED", status_reason=reason)
            elif isinstance(error, (AmcApiError, TransportError)) and handle.execution_id:
                # We lost touch with AMC after it accepted the execution: it is not lost.
                follow_up = (
                    f"AMC execution {handle.execution_id} is not lost: once this is fixed, "
                    f"`%amc attach {handle.execution_id}` follows it to its result."
                )
                error.hint = f"{error.hint} {follow_up}" if error.hint else follow_up
            raise
        finally:
            if ticker is not None:
                ticker.cancel()
        return result.frame

    # --- history commands -----------------------------------------------------------------

    def execution(self, ref: str) -> ExecutionRecord:
        """The execution with local id, AMC id, or a unique prefix of either ``ref``."""
        return self.store.get_execution(ref)

    def history(self, limit: int = 20) -> pd.DataFrame:
        """Executions submitted to AMC, newest first."""
        return self.store.history_frame(limit)

    def result(self, ref: str) -> pd.DataFrame:
        """The stored result of an execution.

        Raises:
            NotFoundError: no such execution, or it has no stored result (with what to do).
        """
        record = self.execution(ref)
        frame = self.store.load_result(record.id)
        if frame is not None:
            return frame
        if record.is_live:
            hint = f"It is still {record.status}; `%amc attach {record.short_id}` follows it to its result."
        elif record.status == "SUCCEEDED":
            hint = f"Its download did not finish; `%amc attach {record.short_id}` fetches it again."
        else:
            hint = f"It ended {record.status}" + (f": {record.status_reason}" if record.status_reason else ".")
        raise NotFoundError(f"Execution {record.short_id} has no stored result.", hint=hint)

    def attach(
        self, ref: str, *, view_factory: ViewFactory | None = None, timeout: float | None = None, waited: bool = False
    ) -> AmcJob:
        """Follow a recorded execution (e.g. after a kernel restart) to its result."""
        record = self.execution(ref)
        job = AmcJob(record.instance_id, self.background.loop)
        job._waited_on = waited
        job.local_id = record.id
        job._bind_execution_id(record.amc_execution_id)
        view = view_factory(record.instance_id, job.cancel) if view_factory else None
        self._track(job, self.background.submit(self._attach(record, job, view, timeout)))
        return job

    async def _attach(self, record: ExecutionRecord, job: AmcJob, view: StatusView | None, timeout: float | None) -> pd.DataFrame:
        job._bind_task()
        frame = self.store.load_result(record.id)
        if frame is not None:
            job.from_cache = True
            if view is not None:
                view.show_note(
                    f"{len(frame):,} rows x {frame.shape[1]} columns, already downloaded",
                    status="SUCCEEDED",
                    execution_id=record.amc_execution_id,
                )
            return frame
        if not record.amc_execution_id:
            raise NotFoundError(
                f"Execution {record.short_id} never reached AMC (status {record.status}).",
                hint="Run the cell again to submit it.",
            )
        if record.status in ("FAILED", "REJECTED", "CANCELLED"):
            error = ExecutionCancelled if record.status == "CANCELLED" else ExecutionFailed
            reason = f": {record.status_reason}" if record.status_reason else "."
            raise error(
                f"AMC execution {record.amc_execution_id} {record.status}{reason}",
                execution_id=record.amc_execution_id,
                status=record.status,
                status_reason=record.status_reason,
            )
        target = self._target_of(record)
        return await self._follow(target, record.id, record.amc_execution_id, job, view, timeout)

    def cancel(self, ref: str) -> ExecutionRecord:
        """Cancel a recorded execution on AMC (through the job following it, if this session has one)."""
        record = self.execution(ref)
        followers = [job for job in list(self._jobs) if job.local_id == record.id]
        for job in followers:
            job.cancel()  # its engine sends the one PUT status=CANCELLED and records the outcome
        for job in followers:
            with contextlib.suppress(Exception, concurrent.futures.CancelledError):
                job.result(timeout=CANCEL_GRACE_SECONDS)
        record = self.execution(record.id)
        if record.is_live and record.amc_execution_id:
            target = self._target_of(record)
            self.background.run(self._engine_call(target, "cancel_execution", target.ref, record.amc_execution_id))
            self.store.record_status(record.id, "CANCELLED", status_reason="Cancelled by the user.")
        elif record.is_live:
            self.store.record_status(record.id, "CANCELLED", status_reason="Cancelled before it reached AMC.")
        return self.execution(record.id)

    def _target_of(self, record: ExecutionRecord) -> Target:
        name = str((record.options or {}).get("target") or record.instance_id)
        if name == SANDBOX:
            return embedded_sandbox()
        return self.target(name)

    # --- instances ------------------------------------------------------------------------

    def connect(self, instance_id: str, *, advertiser_id: str, marketplace_id: str, name: str | None = None) -> dict[str, Any]:
        """Check that the credentials reach ``instance_id`` and remember it (never the secrets).

        Raises:
            ConfigurationError: credentials missing; AccessDeniedError / AuthenticationError from AMC.
        """
        env = self._environ
        credentials = Credentials.from_env(env)
        endpoints = Endpoints.from_env(env)
        probe = Target(
            name=instance_id,
            ref=InstanceRef(instance_id, advertiser_id, marketplace_id),
            instance_type="STANDARD",
            endpoints=endpoints,
            credentials=credentials,
        )
        instances = self.background.run(self._engine_call(probe, "list_instances", advertiser_id, marketplace_id))
        found = next((i for i in instances if i.get("instanceId") == instance_id), None)
        if found is None:
            known = ", ".join(sorted(str(i.get("instanceId")) for i in instances)) or "none"
            raise ConfigurationError(
                f"AMC account {advertiser_id} has no instance {instance_id!r} (it has: {known}).",
                hint="Check the instance id in the AMC console, and that advertiser_id is the account's entity id (ENTITY...).",
            )
        instance_type = str(found.get("instanceType") or "STANDARD")
        self.store.save_account(advertiser_id, marketplace_id)
        self.store.save_instance(
            instance_id,
            entity_id=advertiser_id,
            marketplace_id=marketplace_id,
            api_url=endpoints.api_url,
            instance_type=instance_type,
            name=name or found.get("instanceName"),
        )
        self._schemas.pop(instance_id, None)
        return {"instance_id": instance_id, "instance_type": instance_type, "api_url": endpoints.api_url, "name": name or found.get("instanceName")}

    def instances(self) -> pd.DataFrame:
        """The embedded sandbox and every connected instance."""
        return instances_frame(embedded_sandbox(), self.store.list_instances())

    def schema(self, table: str | None = None, *, instance: str = SANDBOX) -> pd.DataFrame:
        """Tables (or one table's columns) of an instance's schema."""
        target = self.target(instance)
        tables = TABLES if target.complete_schema else self._instance_schema(target)
        return schema_frame(tables, table, target.instance_id)


def _subscribers(view: StatusView | None) -> list[Callable[[ExecutionEvent], None]]:
    return [view.update] if view is not None else []


async def _tick(view: StatusView | None) -> None:
    while view is not None:
        await asyncio.sleep(1.0)
        view.tick()
