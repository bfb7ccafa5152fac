"""Turn HTTP error answers (AMC, Login with Amazon, pre-signed download links) into typed errors.

Messages are built from AMC's own ``details`` and our words only, never from request headers or
bodies, so they cannot carry a token or a secret.
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from amc_magic.errors import (
    AccessDeniedError,
    AmcApiError,
    AuthenticationError,
    BadRequestError,
    CompileError,
    ExecutionNotFound,
    NextStep,
    Remedy,
    ServerError,
    ThrottledError,
)

ErrorMapper = Callable[[httpx.Response], AmcApiError]
"""Builds the error for a response whose status is 400 or above."""

ACCESS_HINT = "check the instance id and the advertiser id (the AMC entity id, ENTITY...)"
CREDENTIALS_HINT = (
    "Check AMC_CLIENT_ID, AMC_CLIENT_SECRET and AMC_REFRESH_TOKEN: the refresh token must belong to this "
    "Login-with-Amazon app and have access to the advertising account."
)
COMPILE_HINT = "Fix the SQL where AMC points."

_NOT_FOUND = re.compile(r"execution.*does not exist", re.IGNORECASE)
_COMPILE = re.compile(r"compile|line \d+, column \d+|syntax|parse|\bsql\b", re.IGNORECASE)
_MAX_DETAILS = 2000


def amc_error(response: httpx.Response) -> AmcApiError:
    """The typed error for an AMC API answer with status >= 400."""
    status = response.status_code
    body = _json_body(response)
    details = _details(response, body)
    request_id = _request_id(response, body)
    code = str(body.get("code")) if body.get("code") is not None else None
    where = f"{response.request.method} {response.request.url.path}"
    fields: dict[str, Any] = {"status_code": status, "code": code, "details": details, "request_id": request_id}
    if status == 401:
        return AuthenticationError(
            f"AMC did not accept the access token ({where}): {details}", hint=CREDENTIALS_HINT, **fields
        )
    if status == 403:
        return AccessDeniedError(f"AMC refused access ({where}): {details}", hint=ACCESS_HINT, **fields)
    if status == 429:
        return ThrottledError(
            f"AMC is throttling requests ({where}).", retry_after=retry_after_seconds(response), **fields
        )
    if status >= 500:
        return ServerError(f"AMC answered {status} ({where}): {details}", **fields)
    if _NOT_FOUND.search(details):
        return ExecutionNotFound(details, **fields)
    if status == 400 and _COMPILE.search(details):
        return CompileError(f"AMC could not compile the SQL: {details}", hint=COMPILE_HINT, next_steps=(NextStep(Remedy.CHECK_ONLY),), **fields)
    return BadRequestError(f"AMC refused the request ({where}, {status}): {details}", **fields)


def token_error(response: httpx.Response) -> AmcApiError:
    """The typed error for a Login-with-Amazon token endpoint answer with status >= 400."""
    status = response.status_code
    body = _json_body(response)
    error = str(body.get("error") or "")
    description = str(body.get("error_description") or "").strip()
    said = f"{error}: {description}" if description else error or f"HTTP {status}"
    fields: dict[str, Any] = {"status_code": status, "code": error or None, "details": description or None}
    if status == 429:
        return ThrottledError(
            "Login with Amazon is throttling requests.", retry_after=retry_after_seconds(response), **fields
        )
    if status >= 500:
        return ServerError(f"Login with Amazon answered {status}.", **fields)
    if error == "invalid_grant":
        return AuthenticationError(
            f"Login with Amazon refused the refresh token ({said}).",
            hint="Check AMC_REFRESH_TOKEN: it may be revoked, mistyped, or issued for another app than AMC_CLIENT_ID.",
            **fields,
        )
    if error == "invalid_client":
        return AuthenticationError(
            f"Login with Amazon refused the app credentials ({said}).",
            hint="Check AMC_CLIENT_ID and AMC_CLIENT_SECRET (the Login-with-Amazon app's id and secret).",
            **fields,
        )
    if not error and status in (404, 405):  # not a token endpoint at all
        return AuthenticationError(
            f"The token endpoint answered HTTP {status} ({response.request.url.copy_with(query=None)}).",
            hint="Check AMC_TOKEN_URL: it should be Login with Amazon's token endpoint, e.g. https://api.amazon.com/auth/o2/token.",
            **fields,
        )
    return AuthenticationError(
        f"Login with Amazon refused the token request ({said}).", hint=CREDENTIALS_HINT, **fields
    )


def download_error(response: httpx.Response) -> AmcApiError:
    """The typed error for a pre-signed result link answer with status >= 400 (the URL is not quoted)."""
    status = response.status_code
    # S3 error bodies may echo the signed request, so only a JSON ``details`` is kept.
    fields: dict[str, Any] = {"status_code": status, "details": _json_body(response).get("details")}
    if status == 403:
        return AccessDeniedError(
            "The result download link was refused; it has probably expired.",
            hint="Ask for the download links again (they live a few minutes).",
            **fields,
        )
    if status == 429:
        return ThrottledError("The result download is throttled.", retry_after=retry_after_seconds(response), **fields)
    if status >= 500:
        return ServerError(f"The result download failed with {status}.", **fields)
    return BadRequestError(f"The result download was refused ({status}).", **fields)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds (either form: delay-seconds or an HTTP date), if present and valid."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        until = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    reference = response.headers.get("Date")
    try:
        now = email.utils.parsedate_to_datetime(reference) if reference else datetime.now(UTC)
    except (TypeError, ValueError):
        now = datetime.now(UTC)
    return max(0.0, (until - now).total_seconds())


def _json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content or b"null")
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _details(response: httpx.Response, body: dict[str, Any]) -> str:
    for key in ("details", "message", "statusReason", "error_description", "messageSubject"):
        if body.get(key):
            return str(body[key])[:_MAX_DETAILS]
    text = response.text.strip() if not body else ""
    return text[:_MAX_DETAILS] or (response.reason_phrase or f"HTTP {response.status_code}")


def _request_id(response: httpx.Response, body: dict[str, Any]) -> str | None:
    found = (
        body.get("requestId") or response.headers.get("x-amzn-RequestId") or response.headers.get("x-amz-request-id")
    )
    return str(found) if found else None
