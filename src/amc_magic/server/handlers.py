"""The REST API under ``/amc-magic/api/``: executions, their results, cancelling, and a change feed.

Every handler is a Jupyter ``APIHandler`` whose verbs are ``@web.authenticated``: a request
needs Jupyter's token or login cookie (403 without), and a ``POST`` with the cookie also needs
the XSRF token (Jupyter checks it before the handler runs). Errors are JSON
``{"message": ..., "hint": ...}``; store and session calls run in worker threads.

=====================================  ======================================================
``GET executions``                     ``?status=&instance=&workflow=&since=&limit=``
``GET executions/{id}``                one execution, SQL included
``GET executions/{id}/result``         ``?format=csv|parquet``, as a download
``GET executions/{id}/preview``        ``?limit=50``: the first rows as JSON
``POST executions/{id}/cancel``        cancels on AMC
``GET changes``                        ``?since=CURSOR``: executions changed since the cursor
``GET status``                         the extension: database backend, the poller
=====================================  ======================================================
"""

from __future__ import annotations

import io
import json
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from amc_magic import __version__
from amc_magic.errors import AmcMagicError, ConfigurationError, NotFoundError
from amc_magic.history import ExecutionRecord
from amc_magic.history.cache_key import plain_json
from amc_magic.server import filters
from amc_magic.wording import NOTEBOOK, full_hint
from amc_magic.server.filters import BadRequest
from amc_magic.server.payloads import execution_detail, execution_summary, iso
from amc_magic.server.service import ServerService

SERVICE_SETTING = "amc_magic_service"
POLLER_SETTING = "amc_magic_poller"
API_PATH = "amc-magic/api"
PREVIEW_LIMIT = 50
MAX_PREVIEW_LIMIT = 500
_ID = r"(?P<ref>[^/]+)"
_FORMATS = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


class ApiError(web.HTTPError):
    """An error answered as ``{"message", "hint"}`` with ``status``."""

    def __init__(self, status: int, message: str, hint: str | None = None) -> None:
        super().__init__(status)
        self.message, self.hint = message, hint


class _ApiHandler(APIHandler):
    """Shared plumbing: the service, worker-thread calls, and errors as JSON."""

    @property
    def service(self) -> ServerService:
        return self.settings[SERVICE_SETTING]

    async def call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a store or session call in a worker thread, turning its errors into API errors."""
        try:
            return await self.service.call(function, *args, **kwargs)
        except BadRequest as error:
            raise ApiError(400, str(error)) from None
        except NotFoundError as error:
            raise ApiError(404, error.message, full_hint(error, NOTEBOOK)) from None
        except ConfigurationError as error:
            raise ApiError(503, error.message, full_hint(error, NOTEBOOK)) from None
        except AmcMagicError as error:
            raise ApiError(502, error.message, full_hint(error, NOTEBOOK)) from None

    async def record(self, ref: str) -> ExecutionRecord:
        """The execution ``ref`` names (local id, AMC id, or a unique prefix of either)."""
        try:
            filters.check_ref(ref)
        except BadRequest as error:
            raise ApiError(400, str(error)) from None
        return await self.call(lambda: self.service.store.get_execution(ref))

    def query_arguments(self) -> dict[str, list[str]]:
        return {name: self.get_query_arguments(name) for name in self.request.query_arguments}

    def write_json(self, payload: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(payload))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        if not isinstance(error, ApiError):
            super().write_error(status_code, **kwargs)
            return
        self.set_header("Content-Type", "application/json")
        self.log.info("amc-magic API %s: %s", status_code, error.message)
        self.finish(json.dumps({"message": error.message, "hint": error.hint}))


class ExecutionsHandler(_ApiHandler):
    @web.authenticated
    async def get(self) -> None:
        """``{"executions": [summary, ...], "count": n, "limit": n}``, newest first."""
        try:
            wanted = filters.parse_filter(self.query_arguments())
        except BadRequest as error:
            raise ApiError(400, str(error)) from None
        records = await self.call(lambda: filters.list_executions(self.service.store, wanted))
        now = self.service.clock()
        self.write_json(
            {"executions": [execution_summary(r, now) for r in records], "count": len(records), "limit": wanted.limit}
        )


class ExecutionHandler(_ApiHandler):
    @web.authenticated
    async def get(self, ref: str) -> None:
        """The execution's :func:`~amc_magic.server.payloads.execution_detail`."""
        self.write_json(execution_detail(await self.record(ref), self.service.clock()))


class ResultHandler(_ApiHandler):
    @web.authenticated
    async def get(self, ref: str) -> None:
        """The stored result as a CSV or Parquet download."""
        kind = self.get_query_argument("format", "csv").strip().lower()
        if kind not in _FORMATS:
            raise ApiError(400, f"format must be csv or parquet, not {kind[:20]!r}.")
        record = await self.record(ref)
        body = await self.call(_result_bytes, self.service, record, kind)
        self.set_header("Content-Disposition", f'attachment; filename="amc-{record.short_id}.{kind}"')
        self.set_header("Cache-Control", "no-store")
        self.finish(body, set_content_type=_FORMATS[kind])


class PreviewHandler(_ApiHandler):
    @web.authenticated
    async def get(self, ref: str) -> None:
        """``{"columns": [...], "rows": [[...], ...], "row_count": n, "truncated": bool}``."""
        try:
            limit = filters.parse_limit(self.get_query_argument("limit", str(PREVIEW_LIMIT)), MAX_PREVIEW_LIMIT)
        except BadRequest as error:
            raise ApiError(400, str(error)) from None
        record = await self.record(ref)
        self.write_json(await self.call(_preview, self.service, record, limit))


class CancelHandler(_ApiHandler):
    @web.authenticated
    async def post(self, ref: str) -> None:
        """Cancel on AMC; answers the execution's detail after the cancel."""
        record = await self.record(ref)
        if not record.is_live:
            raise ApiError(409, f"Execution {record.short_id} already ended {record.status}; there is nothing to cancel.")
        if _embedded_elsewhere(record, self.service):
            raise ApiError(
                409,
                f"Execution {record.short_id} runs on the built-in sandbox inside the kernel that started it.",
                hint=f"Cancel it from that notebook with `%amc cancel {record.short_id}`.",
            )
        cancelled = await self.call(lambda: self.service.session.cancel(record.id))
        self.write_json(execution_detail(cancelled, self.service.clock()))


class ChangesHandler(_ApiHandler):
    @web.authenticated
    async def get(self) -> None:
        """``{"cursor": ISO, "executions": [summary, ...]}``: pass ``cursor`` as the next ``since``."""
        now = self.service.clock()
        cursor = iso(now - filters.CHANGE_OVERLAP)
        since_text = self.get_query_argument("since", "").strip()
        if not since_text:
            self.write_json({"cursor": cursor, "executions": []})
            return
        try:
            since = filters.parse_since(since_text)
        except BadRequest as error:
            raise ApiError(400, str(error)) from None
        records = await self.call(lambda: filters.changed_since(self.service.store, since))
        self.write_json({"cursor": cursor, "executions": [execution_summary(r, now) for r in records]})


class StatusHandler(_ApiHandler):
    @web.authenticated
    async def get(self) -> None:
        """``{"version", "database", "poller": {...} | null}`` (the database's backend, never its URL)."""
        backend = await self.call(lambda: self.service.store.engine.dialect.name)
        poller = self.settings.get(POLLER_SETTING)
        self.write_json({"version": __version__, "database": backend, "poller": poller.describe() if poller else None})


def api_handlers(base_url: str = "/") -> list[tuple[str, type[APIHandler]]]:
    """The API's routes under ``base_url``."""
    routes = [
        ("executions", ExecutionsHandler),
        (f"executions/{_ID}", ExecutionHandler),
        (f"executions/{_ID}/result", ResultHandler),
        (f"executions/{_ID}/preview", PreviewHandler),
        (f"executions/{_ID}/cancel", CancelHandler),
        ("changes", ChangesHandler),
        ("status", StatusHandler),
    ]
    return [(url_path_join(base_url, API_PATH, path), handler) for path, handler in routes]


def _embedded_elsewhere(record: ExecutionRecord, service: ServerService) -> bool:
    """Whether the execution runs on a kernel's in-process sandbox, which this server cannot reach."""
    return str((record.options or {}).get("target", "")).lower() == "sandbox" and not service.shares_embedded_sandbox


def _result_bytes(service: ServerService, record: ExecutionRecord, kind: str) -> bytes:
    frame = _stored_frame(service, record)
    if kind == "csv":
        return frame.to_csv(index=False).encode("utf-8")
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _preview(service: ServerService, record: ExecutionRecord, limit: int) -> dict[str, Any]:
    frame = _stored_frame(service, record)
    head = frame.head(limit).astype(object)
    head = head.where(head.notna(), None)
    rows = plain_json(head.values.tolist())
    return {"columns": [str(c) for c in frame.columns], "rows": rows, "row_count": len(frame), "truncated": len(frame) > limit}


def _stored_frame(service: ServerService, record: ExecutionRecord) -> Any:
    frame = service.store.load_result(record.id)
    if frame is None:
        state = "is still " + record.status if record.is_live else "ended " + record.status
        raise NotFoundError(f"Execution {record.short_id} has no stored result: it {state}.")
    return frame
