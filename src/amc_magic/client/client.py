"""The async AMC reporting API client: one method per endpoint, one private request path.

Every AMC call goes through :meth:`AmcClient._request`, which adds AMC's headers and a bearer
token, refreshes the token once when AMC answers 401, and hands the request to the
:class:`~amc_magic.client.http.RequestSender` (retries, logging, error mapping). Result files are
fetched from their pre-signed links with no AMC headers at all.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any, BinaryIO

import httpx

from amc_magic.client.auth import LwaTokenProvider, TokenProvider
from amc_magic.client.credentials import Credentials, Endpoints
from amc_magic.client.http import RequestSender
from amc_magic.client.models import AmcExecution, InstanceRef, format_amc_time
from amc_magic.client.responses import amc_error, download_error
from amc_magic.client.retry import Clock, Random, RetryPolicy, Sleep
from amc_magic.errors import AuthenticationError

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class AmcClient:
    """Async client for the AMC reporting API (``{api_url}/amc/reporting/{instanceId}/...``).

    Use it inside one event loop, as an async context manager or closing it with :meth:`aclose`.

    Args:
        credentials: the Login-with-Amazon app and refresh token (its client id is also sent as
            ``Amazon-Advertising-API-ClientId``).
        endpoints: AMC API base URL and token endpoint.
        transport: the httpx transport (default: the network); tests pass a
            ``MockTransport`` or the sandbox's transport.
        token_provider: where bearer tokens come from (default: Login with Amazon).
        retry_policy: bounds and pace of retries.
        sleep: async sleep used between retries.
        clock: monotonic clock (token expiry, the not-found grace period).
        random: jitter source for backoff.
        timeout: httpx timeout for each request.
        not_found_grace: seconds after this client created an execution during which AMC's
            "does not exist" for it is treated as eventual consistency and retried.
        token_refresh_margin: renew a Login-with-Amazon token this many seconds before it expires.
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        endpoints: Endpoints | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        token_provider: TokenProvider | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        random: Random = random.random,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        not_found_grace: float = 60.0,
        token_refresh_margin: float = 300.0,
    ) -> None:
        self._credentials = credentials
        self._endpoints = endpoints or Endpoints()
        self._clock = clock
        self._not_found_grace = not_found_grace
        self._created: dict[str, float] = {}
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": "amc-magic"},
        )
        self._sender = RequestSender(
            self._http, policy=retry_policy or RetryPolicy(), sleep=sleep, random=random, clock=clock
        )
        self._tokens: TokenProvider = token_provider or LwaTokenProvider(
            credentials,
            token_url=self._endpoints.token_url,
            sender=self._sender,
            clock=clock,
            refresh_margin=token_refresh_margin,
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> AmcClient:
        """A client configured from ``AMC_CLIENT_ID``/``AMC_CLIENT_SECRET``/``AMC_REFRESH_TOKEN`` and
        ``AMC_API_URL``/``AMC_TOKEN_URL``; ``kwargs`` go to the constructor.

        Raises:
            ConfigurationError: a credential variable is missing.
        """
        return cls(Credentials.from_env(environ), endpoints=Endpoints.from_env(environ), **kwargs)

    def __repr__(self) -> str:
        return f"AmcClient(api_url={self._endpoints.api_url!r}, client_id={self._credentials.client_id!r})"

    async def __aenter__(self) -> AmcClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # --- executions ---------------------------------------------------------------------------

    async def create_execution(self, instance: InstanceRef, body: Mapping[str, Any]) -> AmcExecution:
        """``POST /workflowExecutions``: run an ad-hoc query (``workflow.sqlQuery``) or a saved workflow
        (``workflowId``).

        Not resent after an ambiguous failure (a time-out or dropped connection once the request
        may have arrived, or a 5xx): the caller reconciles (see ``amc_magic.engine.reconcile``).
        """
        response = await self._request("POST", instance, "/workflowExecutions", json=body, idempotent=False)
        execution = AmcExecution.from_json(response.json())
        self.note_created(execution.execution_id)
        return execution

    async def get_execution(
        self, instance: InstanceRef, execution_id: str, *, include_workflow: bool = False
    ) -> AmcExecution:
        """``GET /workflowExecutions/{id}``: the execution's status and, once known, its output columns."""
        params = {"includeWorkflow": "true"} if include_workflow else None
        response = await self._request(
            "GET",
            instance,
            f"/workflowExecutions/{execution_id}",
            params=params,
            not_found_until=self._grace_deadline(execution_id),
        )
        return AmcExecution.from_json(response.json())

    async def list_executions(
        self,
        instance: InstanceRef,
        *,
        min_creation_time: datetime | None = None,
        max_creation_time: datetime | None = None,
        workflow_id: str | None = None,
        include_workflow: bool = False,
        include_cancelled: bool | None = None,
        page_size: int | None = None,
    ) -> list[AmcExecution]:
        """``GET /workflowExecutions``, following ``nextToken`` through every page."""
        params: dict[str, str] = {}
        if min_creation_time is not None:
            params["minCreationTime"] = format_amc_time(min_creation_time)
        if max_creation_time is not None:
            params["maxCreationTime"] = format_amc_time(max_creation_time)
        if workflow_id is not None:
            params["workflowId"] = workflow_id
        if include_workflow:
            params["includeWorkflow"] = "true"
        if include_cancelled is not None:
            params["includeCancelled"] = "true" if include_cancelled else "false"
        if page_size is not None:
            params["limit"] = str(page_size)
        items = await self._paged(instance, "/workflowExecutions", "executions", params)
        return [AmcExecution.from_json(item) for item in items]

    async def cancel_execution(self, instance: InstanceRef, execution_id: str) -> None:
        """``PUT /workflowExecutions/{id}`` with ``{"status": "CANCELLED"}`` (only while PENDING or RUNNING)."""
        await self._request(
            "PUT",
            instance,
            f"/workflowExecutions/{execution_id}",
            json={"status": "CANCELLED"},
            not_found_until=self._grace_deadline(execution_id),
        )

    async def download_urls(self, instance: InstanceRef, execution_id: str) -> list[str]:
        """``GET /workflowExecutions/{id}/downloadUrls``: pre-signed links to the result CSV files."""
        response = await self._request(
            "GET",
            instance,
            f"/workflowExecutions/{execution_id}/downloadUrls",
            not_found_until=self._grace_deadline(execution_id),
        )
        return [str(url) for url in response.json().get("downloadUrls") or ()]

    async def download(self, url: str, sink: BinaryIO) -> int:
        """Stream one result file from its pre-signed ``url`` into ``sink``; return the bytes written.

        No ``Authorization`` or AMC header is sent: the link carries its own signature.

        Raises:
            AccessDeniedError: the link was refused, most likely because it expired.
        """
        absolute = httpx.URL(self._endpoints.api_url).join(url)
        await self._sender.send(httpx.Request("GET", absolute), to_error=download_error, sink=sink)
        return sink.tell()

    def note_created(self, execution_id: str) -> None:
        """Remember that this process just created ``execution_id`` (starts its not-found grace period)."""
        now = self._clock()
        self._created = {k: t for k, t in self._created.items() if now - t < self._not_found_grace}
        self._created[execution_id] = now

    # --- workflows ----------------------------------------------------------------------------

    async def list_workflows(self, instance: InstanceRef) -> list[dict[str, Any]]:
        """``GET /workflows``, every page."""
        return await self._paged(instance, "/workflows", "workflows", {})

    async def get_workflow(self, instance: InstanceRef, workflow_id: str) -> dict[str, Any]:
        """``GET /workflows/{workflowId}``."""
        body = (await self._request("GET", instance, f"/workflows/{workflow_id}")).json()
        return dict(body.get("workflow", body))

    async def create_workflow(self, instance: InstanceRef, workflow: Mapping[str, Any]) -> None:
        """``POST /workflows`` (``workflowId`` and ``sqlQuery`` required)."""
        await self._request("POST", instance, "/workflows", json=workflow, idempotent=False)

    async def update_workflow(self, instance: InstanceRef, workflow_id: str, workflow: Mapping[str, Any]) -> None:
        """``PUT /workflows/{workflowId}`` with the full definition."""
        await self._request("PUT", instance, f"/workflows/{workflow_id}", json={**workflow, "workflowId": workflow_id})

    async def delete_workflow(self, instance: InstanceRef, workflow_id: str) -> None:
        """``DELETE /workflows/{workflowId}``."""
        await self._request("DELETE", instance, f"/workflows/{workflow_id}")

    # --- schedules ----------------------------------------------------------------------------

    async def create_schedule(self, instance: InstanceRef, schedule: Mapping[str, Any]) -> None:
        """``POST /schedules``: run a saved workflow once a day or week (``scheduleId``, ``workflowId``,
        ``aggregationPeriod`` ``Daily``/``Weekly``, ``aggregationHourUtc``, ``aggregationStartDay``,
        ``scheduleEnabled``; ``requireSyntheticData`` on a sandbox instance)."""
        await self._request("POST", instance, "/schedules", json=schedule, idempotent=False)

    async def list_schedules(self, instance: InstanceRef) -> list[dict[str, Any]]:
        """``GET /schedules``, every page."""
        return await self._paged(instance, "/schedules", "schedules", {})

    async def get_schedule(self, instance: InstanceRef, schedule_id: str) -> dict[str, Any]:
        """``GET /schedules/{scheduleId}``."""
        body = (await self._request("GET", instance, f"/schedules/{schedule_id}")).json()
        return dict(body.get("schedule", body))

    async def update_schedule(self, instance: InstanceRef, schedule_id: str, changes: Mapping[str, Any]) -> None:
        """``PUT /schedules/{scheduleId}`` with the schedule as it is, ``changes`` applied (``{"scheduleEnabled":
        False}`` disables it): AMC's guide updates a schedule by reading it, changing fields and sending it back."""
        current = await self.get_schedule(instance, schedule_id)
        await self._request(
            "PUT", instance, f"/schedules/{schedule_id}", json={**current, **changes, "scheduleId": schedule_id}
        )

    async def delete_schedule(self, instance: InstanceRef, schedule_id: str) -> None:
        """``DELETE /schedules/{scheduleId}``; the executions it already ran stay."""
        await self._request("DELETE", instance, f"/schedules/{schedule_id}")

    # --- data sources and administration -------------------------------------------------------

    async def list_data_sources(self, instance: InstanceRef) -> list[dict[str, Any]]:
        """``GET /dataSources``, every page: the instance's tables and columns."""
        return await self._paged(instance, "/dataSources", "dataSources", {})

    async def get_data_source(self, instance: InstanceRef, data_source_id: str) -> dict[str, Any]:
        """``GET /dataSources/{dataSourceId}``."""
        body = (await self._request("GET", instance, f"/dataSources/{data_source_id}")).json()
        return dict(body.get("dataSource", body))

    async def list_accounts(self) -> list[dict[str, Any]]:
        """``GET /amc/accounts``: the AMC accounts (entities) the refresh token can use."""
        response = await self._request("GET", None, "/amc/accounts")
        return list(response.json().get("amcAccounts") or ())

    async def list_instances(
        self, advertiser_id: str | None = None, marketplace_id: str | None = None
    ) -> list[dict[str, Any]]:
        """``GET /amc/instances``: the instances of an AMC account (entity), every page."""
        headers = _id_headers(advertiser_id, marketplace_id)
        return await self._paged(None, "/amc/instances", "instances", {}, headers=headers)

    # --- the request path ---------------------------------------------------------------------

    async def _paged(
        self,
        instance: InstanceRef | None,
        path: str,
        key: str,
        params: Mapping[str, str],
        *,
        headers: Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        next_token: str | None = None
        while True:
            page_params = {**params, "nextToken": next_token} if next_token else dict(params)
            body = (await self._request("GET", instance, path, params=page_params, headers=headers)).json()
            items.extend(body.get(key) or ())
            next_token = body.get("nextToken")
            if not next_token:
                return items

    async def _request(
        self,
        method: str,
        instance: InstanceRef | None,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
        not_found_until: float | None = None,
    ) -> httpx.Response:
        """Send one AMC API call; on a 401, refresh the token once and send it again."""
        prefix = f"/amc/reporting/{instance.instance_id}" if instance else ""
        url = self._endpoints.api_url.rstrip("/") + prefix + path
        extra = dict(headers or {})
        if instance:
            extra |= _id_headers(instance.advertiser_id, instance.marketplace_id)
        token = await self._tokens.token()
        for attempt in (1, 2):
            request = self._http.build_request(
                method, url, params=params, json=json, headers=self._amc_headers(token) | extra
            )
            try:
                return await self._sender.send(
                    request, to_error=amc_error, idempotent=idempotent, not_found_until=not_found_until
                )
            except AuthenticationError as exc:
                if exc.status_code != 401 or attempt == 2:
                    raise
                token = await self._tokens.refresh(token)
        raise AssertionError("unreachable")  # pragma: no cover

    def _amc_headers(self, token: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token}",
            "Amazon-Advertising-API-ClientId": self._credentials.client_id,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    def _grace_deadline(self, execution_id: str) -> float | None:
        created = self._created.get(execution_id)
        return None if created is None else created + self._not_found_grace


def _id_headers(advertiser_id: str | None, marketplace_id: str | None) -> dict[str, str]:
    headers = {}
    if advertiser_id:
        headers["Amazon-Advertising-API-AdvertiserId"] = advertiser_id
    if marketplace_id:
        headers["Amazon-Advertising-API-MarketplaceId"] = marketplace_id
    return headers
