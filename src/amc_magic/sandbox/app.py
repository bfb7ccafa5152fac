"""The sandbox's HTTP face: AMC's reporting API, Login with Amazon, and the result-file links.

Routes (the AMC API at the root, as on ``advertising-api.amazon.com``):

- ``POST /auth/o2/token``
- ``GET /amc/accounts``, ``GET /amc/instances``
- ``/amc/reporting/{instanceId}/workflowExecutions`` (POST create, GET list),
  ``.../workflowExecutions/{id}`` (GET, PUT ``{"status":"CANCELLED"}``), ``.../{id}/downloadUrls``
- ``/amc/reporting/{instanceId}/workflows`` (POST, GET) and ``.../workflows/{workflowId}`` (GET, PUT, DELETE)
- ``/amc/reporting/{instanceId}/schedules`` (POST, GET) and ``.../schedules/{scheduleId}`` (GET, PUT, DELETE)
- ``/amc/reporting/{instanceId}/dataSources`` and ``.../dataSources/{dataSourceId}``
- ``GET /results/{token}/{n}.csv`` and ``.../metadata.json`` (pre-signed links)

Every AMC error is ``{"code": "<status>", "details": ..., "requestId": ...}``. This module only
routes and translates HTTP (headers, faults, dropped connections, S3-style download answers);
:class:`~amc_magic.sandbox.api.AmcApi` holds the protocol. Before every AMC API call it creates the
executions of schedule periods that have ended (:class:`~amc_magic.sandbox.schedule_api.ScheduleApi`).
"""

from __future__ import annotations

import json
import logging
import secrets
import string
import threading
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .api import AmcApi, ApiRequest, Database
from .auth import AccessTokens, TokenEndpoint, bearer_token
from .config import SandboxConfig
from .faults import Faults, InjectedFault
from .results import LinkStatus, s3_error_xml
from .schedule_api import ScheduleApi
from .problems import ApiProblem, bad_request, forbidden, unauthorized

logger = logging.getLogger(__name__)

AMC_API_ENDPOINTS = frozenset(
    {
        "list_accounts",
        "list_instances",
        "create_execution",
        "list_executions",
        "get_execution",
        "update_execution",
        "download_urls",
        "create_workflow",
        "list_workflows",
        "get_workflow",
        "update_workflow",
        "delete_workflow",
        "create_schedule",
        "list_schedules",
        "get_schedule",
        "update_schedule",
        "delete_schedule",
        "list_data_sources",
        "get_data_source",
    }
)
ENDPOINTS = AMC_API_ENDPOINTS | {"token", "download"}
"""Names under which ``Sandbox.calls`` counts calls and ``SandboxConfig.fault_endpoints`` selects them."""

_REPORTING = "/amc/reporting/{instanceId}"
_REQUEST_ID_ALPHABET = string.ascii_uppercase + string.digits
Handler = Callable[[Request], Awaitable[Response]]


class Sandbox:
    """A local AMC: its state, and the ASGI app serving it.

    Args:
        config: behaviour and faults; defaults to :class:`SandboxConfig()`.
        database: runs the queries; defaults to the synthetic-data database built on first use.

    Attributes:
        app: the Starlette app (``app.state.sandbox`` is this object).
        schedules: the schedule endpoints; ``schedules.materialise()`` fires the periods due by now.
        calls: calls per endpoint name (see :data:`ENDPOINTS`), faulted calls included.
    """

    def __init__(self, config: SandboxConfig | None = None, *, database: Database | None = None) -> None:
        self.config = config = config or SandboxConfig()
        self.calls: Counter[str] = Counter()
        self._calls_lock = threading.Lock()
        self._tokens = AccessTokens(lifetime_seconds=config.token_lifetime_seconds, clock=config.clock)
        self._faults = Faults(config, default_scope=AMC_API_ENDPOINTS)
        self.api = AmcApi(config, database=database)
        self.schedules = ScheduleApi(self.api)
        self.app = self._build_app()
        self.app.state.sandbox = self

    async def wait_idle(self) -> None:
        """Create the schedules' executions due by now, wait until no query is running in a worker
        thread, and apply the transitions due by now."""
        self.schedules.materialise()
        await self.api.executions.wait_idle()

    def close(self) -> None:
        """Stop the query threads and close the database the sandbox built (not an injected one)."""
        self.api.close()

    def _build_app(self) -> Starlette:
        api = self.api
        token = TokenEndpoint(self._tokens, rejected_refresh_tokens=self.config.rejected_refresh_tokens)

        @asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            yield
            self.close()

        executions, workflows = f"{_REPORTING}/workflowExecutions", f"{_REPORTING}/workflows"
        schedules, schedule_api = f"{_REPORTING}/schedules", self.schedules
        routes = [
            Route("/auth/o2/token", self._counted("token", token), methods=["POST"]),
            self._route("GET", "/amc/accounts", "list_accounts", api.list_accounts, advertiser=False),
            self._route("GET", "/amc/instances", "list_instances", api.list_instances),
            Route(executions, self._amc("create_execution", self._create_execution), methods=["POST"]),
            self._route("GET", executions, "list_executions", api.list_executions),
            Route(f"{executions}/{{executionId}}", self._amc("get_execution", self._get_execution), methods=["GET"]),
            self._route("PUT", f"{executions}/{{executionId}}", "update_execution", api.update_execution),
            self._route("GET", f"{executions}/{{executionId}}/downloadUrls", "download_urls", api.download_urls),
            self._route("POST", workflows, "create_workflow", api.create_workflow, thread=True),
            self._route("GET", workflows, "list_workflows", api.list_workflows),
            self._route("GET", f"{workflows}/{{workflowId}}", "get_workflow", api.get_workflow),
            self._route("PUT", f"{workflows}/{{workflowId}}", "update_workflow", api.update_workflow, thread=True),
            self._route("DELETE", f"{workflows}/{{workflowId}}", "delete_workflow", api.delete_workflow),
            self._route("POST", schedules, "create_schedule", schedule_api.create_schedule),
            self._route("GET", schedules, "list_schedules", schedule_api.list_schedules),
            self._route("GET", f"{schedules}/{{scheduleId}}", "get_schedule", schedule_api.get_schedule),
            self._route("PUT", f"{schedules}/{{scheduleId}}", "update_schedule", schedule_api.update_schedule),
            self._route("DELETE", f"{schedules}/{{scheduleId}}", "delete_schedule", schedule_api.delete_schedule),
            self._route("GET", f"{_REPORTING}/dataSources", "list_data_sources", api.list_data_sources),
            self._route("GET", f"{_REPORTING}/dataSources/{{dataSourceId}}", "get_data_source", api.get_data_source),
            Route("/results/{token}/{name}", self._counted("download", self._download), methods=["GET"]),
        ]
        return Starlette(routes=routes, exception_handlers={HTTPException: _http_exception}, lifespan=lifespan)

    def _route(
        self,
        method: str,
        path: str,
        name: str,
        call: Callable[[ApiRequest], dict[str, Any]],
        *,
        advertiser: bool = True,
        thread: bool = False,
    ) -> Route:
        """A route answering with ``call``'s JSON; ``thread`` runs it off the event loop (SQL checks)."""

        async def handler(request: Request) -> Response:
            api_request = await _api_request(request)
            body = await run_in_threadpool(call, api_request) if thread else call(api_request)
            return JSONResponse(body)

        return Route(path, self._amc(name, handler, advertiser=advertiser), methods=[method])

    # --- request pipeline --------------------------------------------------------------------

    def _counted(self, name: str, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            with self._calls_lock:
                self.calls[name] += 1
            fault = self._faults.before_call(name)
            if fault is not None:
                return _fault_response(fault, _request_id())
            return await handler(request)

        return endpoint

    def _amc(self, name: str, handler: Handler, *, advertiser: bool = True) -> Handler:
        """An AMC API endpoint: counted, faults injected, headers checked, errors in AMC's shape."""

        async def checked(request: Request) -> Response:
            request_id = _request_id()
            try:
                self._check_headers(request, advertiser=advertiser)
                self.schedules.materialise()
                response = await handler(request)
            except ApiProblem as exc:
                return _error_response(exc.status, exc.details, request_id)
            except Exception:
                logger.exception("sandbox endpoint %s failed", name)
                return _error_response(500, "Internal server error.", request_id)
            response.headers["x-amzn-RequestId"] = request_id
            return response

        return self._counted(name, checked)

    def _check_headers(self, request: Request, *, advertiser: bool) -> None:
        headers, config = request.headers, self.config
        token = bearer_token(headers.get("authorization"))
        if token is None or not self._tokens.is_valid(token):
            raise unauthorized()
        if not headers.get("amazon-advertising-api-clientid"):
            raise bad_request("Missing required header Amazon-Advertising-API-ClientId.")
        if not advertiser:
            return
        advertiser_id = headers.get("amazon-advertising-api-advertiserid")
        marketplace_id = headers.get("amazon-advertising-api-marketplaceid")
        if not advertiser_id:
            raise bad_request("Missing required header Amazon-Advertising-API-AdvertiserId.")
        if not marketplace_id:
            raise bad_request("Missing required header Amazon-Advertising-API-MarketplaceId.")
        instance_id = request.path_params.get("instanceId", config.instance_id)
        if advertiser_id != config.advertiser_id or marketplace_id != config.marketplace_id:
            raise _forbidden(
                f"Advertiser {advertiser_id} in marketplace {marketplace_id} has no access to this resource."
            )
        if instance_id != config.instance_id:
            raise _forbidden(f"Instance {instance_id} is not accessible to advertiser {advertiser_id}.")

    # --- endpoints with HTTP-level behaviour -------------------------------------------------

    async def _create_execution(self, request: Request) -> Response:
        execution = await run_in_threadpool(self.api.create_execution, await _api_request(request))
        if self._faults.drops_create():
            return _DroppedResponse(execution)
        return JSONResponse(execution)

    async def _get_execution(self, request: Request) -> Response:
        execution_id = request.path_params["executionId"]
        if self._faults.hides_execution(execution_id):
            raise bad_request(f"Workflow execution with ID {execution_id} does not exist.")
        return JSONResponse(self.api.get_execution(await _api_request(request)))

    async def _download(self, request: Request) -> Response:
        request_id = _request_id()
        if "authorization" in request.headers:
            return _s3_error(
                400,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query "
                "string parameter or the Authorization header should be specified",
                request_id,
            )
        if "X-Amz-Signature" not in request.query_params:
            return _s3_error(403, "AccessDenied", "Access Denied", request_id)
        status = self.api.links.check(request.url.path, request.query_params)
        if status is LinkStatus.INVALID:
            return _s3_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
                request_id,
            )
        if status is LinkStatus.EXPIRED:
            return _s3_error(403, "AccessDenied", "Request has expired", request_id)
        found = await run_in_threadpool(self.api.result_file, request.path_params["token"], request.path_params["name"])
        if found is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.", request_id)
        content, media_type = found
        return Response(content, media_type=media_type)


def create_app(config: SandboxConfig | None = None, *, database: Database | None = None) -> Starlette:
    """The sandbox's ASGI app; its :class:`Sandbox` is ``app.state.sandbox``."""
    return Sandbox(config, database=database).app


class _DroppedResponse(Response):
    """Starts the response, then drops the connection (the server aborts it; nothing else is sent)."""

    def __init__(self, content: Any) -> None:
        super().__init__(json.dumps(content).encode(), media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        raise ConnectionAbortedError("the sandbox dropped the connection after accepting the request")


async def _api_request(request: Request) -> ApiRequest:
    return ApiRequest(
        path=request.path_params,
        query=request.query_params,
        body=await request.body(),
        base_url=str(request.base_url).rstrip("/"),
    )


def _request_id() -> str:
    return "".join(secrets.choice(_REQUEST_ID_ALPHABET) for _ in range(20))


def _error_response(status: int, details: str, request_id: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"code": str(status), "details": details, "requestId": request_id}
    return JSONResponse(body, status_code=status, headers={"x-amzn-RequestId": request_id, **(headers or {})})


def _fault_response(fault: InjectedFault, request_id: str) -> JSONResponse:
    if fault.status == 429:
        return _error_response(429, "Too Many Requests", request_id, {"Retry-After": str(fault.retry_after)})
    return _error_response(fault.status, "Internal server error.", request_id)


def _forbidden(details: str) -> ApiProblem:
    return forbidden(details)


def _s3_error(status: int, code: str, message: str, request_id: str) -> Response:
    return Response(s3_error_xml(code, message, request_id), status_code=status, media_type="application/xml")


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    details = "Resource not found." if exc.status_code == 404 else exc.detail
    return _error_response(exc.status_code, details, _request_id())
