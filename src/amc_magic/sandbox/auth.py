"""Login with Amazon, as the sandbox speaks it: the token endpoint and the bearer-token check.

``POST /auth/o2/token`` takes ``grant_type=refresh_token`` with a refresh token, client id and
client secret, as a form or a JSON body (both work against Amazon). Any client id, secret and refresh
token is accepted, except refresh tokens the configuration marks as revoked. Errors follow Amazon's
shapes: ``invalid_request`` / ``unsupported_grant_type`` / ``invalid_grant`` with 400 and
``invalid_client`` with 401.

Access tokens are random ``Atza|`` strings that expire after the configured lifetime; the AMC API
answers 401 for a missing, unknown or expired one.
"""

from __future__ import annotations

import json
import secrets
import threading
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse

from .config import Clock

_INVALID_GRANT = (
    "The request has an invalid grant parameter : refresh_token. User may have revoked or didn't grant the permission."
)


class AccessTokens:
    """Issues access tokens and tells whether one is still valid."""

    def __init__(self, *, lifetime_seconds: int, clock: Clock) -> None:
        self._lifetime = timedelta(seconds=lifetime_seconds)
        self._clock = clock
        self._expiry: dict[str, datetime] = {}
        self._lock = threading.Lock()

    @property
    def lifetime_seconds(self) -> int:
        return int(self._lifetime.total_seconds())

    def issue(self) -> str:
        """A new access token, valid for the configured lifetime from now."""
        token = "Atza|" + secrets.token_urlsafe(32)
        with self._lock:
            self._expiry[token] = self._clock() + self._lifetime
        return token

    def is_valid(self, token: str) -> bool:
        """Whether ``token`` was issued here and has not expired."""
        with self._lock:
            expiry = self._expiry.get(token)
        return expiry is not None and self._clock() < expiry


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class TokenEndpoint:
    """The ``POST /auth/o2/token`` handler."""

    def __init__(self, tokens: AccessTokens, *, rejected_refresh_tokens: frozenset[str]) -> None:
        self._tokens = tokens
        self._rejected = rejected_refresh_tokens

    async def __call__(self, request: Request) -> JSONResponse:
        fields = _form_fields(await request.body(), request.headers.get("content-type", ""))
        if fields is None:
            return _error(400, "invalid_request", "The request body could not be parsed.")
        grant_type = fields.get("grant_type")
        if not grant_type:
            return _error(400, "invalid_request", "The request is missing a required parameter : grant_type")
        if grant_type != "refresh_token":
            return _error(400, "unsupported_grant_type", f"Unsupported grant_type: {grant_type}")
        if not fields.get("client_id") or not fields.get("client_secret"):
            return _error(401, "invalid_client", "Client authentication failed")
        refresh_token = fields.get("refresh_token")
        if not refresh_token or refresh_token in self._rejected:
            return _error(400, "invalid_grant", _INVALID_GRANT)
        return JSONResponse(
            {
                "access_token": self._tokens.issue(),
                "refresh_token": refresh_token,
                "token_type": "bearer",
                "expires_in": self._tokens.lifetime_seconds,
            }
        )


def _form_fields(body: bytes, content_type: str) -> dict[str, str] | None:
    """The string fields of a form or JSON body; None when it cannot be parsed."""
    try:
        text = body.decode("utf-8")
        if "json" in content_type.lower() or text.lstrip().startswith("{"):
            data = json.loads(text)
            if not isinstance(data, dict):
                return None
            return {str(k): str(v) for k, v in data.items() if v is not None}
        return dict(parse_qsl(text, keep_blank_values=True))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)
