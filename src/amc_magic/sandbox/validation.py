"""Checks on request bodies and query strings, failing with AMC's 400 answers.

A check that fails raises :class:`~amc_magic.sandbox.problems.ApiProblem` carrying the HTTP status and
AMC's ``details`` text; the app turns it into ``{"code", "details", "requestId"}``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from .problems import bad_request


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The JSON object in ``body``; malformed JSON or a non-object is a 400."""
    try:
        data = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad_request(f"Malformed request body: {exc}") from None
    if not isinstance(data, dict):
        raise bad_request("Malformed request body: expected a JSON object.")
    return data


def reject_unknown_fields(data: Mapping[str, Any], allowed: Collection[str]) -> None:
    """A 400 naming the first field of ``data`` that is not in ``allowed``."""
    for key in data:
        if key not in allowed:
            raise bad_request(f'Unrecognized field "{key}" in request body.')


def optional_str(data: Mapping[str, Any], key: str) -> str | None:
    """``data[key]`` if it is a string, None if absent or null; anything else is a 400."""
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise bad_request(f"Field {key} must be a string.")


def required_str(data: Mapping[str, Any], key: str) -> str:
    """``data[key]`` as a non-empty string; a 400 otherwise."""
    value = optional_str(data, key)
    if not value:
        raise bad_request(f"Field {key} is required.")
    return value


def optional_bool(data: Mapping[str, Any], key: str, default: bool = False) -> bool:
    """``data[key]`` as a boolean (JSON booleans and the strings "true"/"false"); a 400 otherwise."""
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise bad_request(f"Field {key} must be a boolean.")


def optional_int(data: Mapping[str, Any], key: str, *, default: int, low: int, high: int) -> int:
    """``data[key]`` as an integer in ``[low, high]``; a 400 otherwise."""
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise bad_request(f"Field {key} must be an integer between {low} and {high}.")
    return value


def optional_object(data: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    """``data[key]`` if it is a JSON object, None if absent; a 400 otherwise."""
    value = data.get(key)
    if value is None or isinstance(value, dict):
        return value
    raise bad_request(f"Field {key} must be an object.")


def optional_list(data: Mapping[str, Any], key: str) -> list[Any]:
    """``data[key]`` if it is a JSON array, [] if absent; a 400 otherwise."""
    value = data.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise bad_request(f"Field {key} must be an array.")
