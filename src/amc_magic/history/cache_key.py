"""The result cache's key: what makes two executions ask AMC the same question."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlglot.errors import TokenError
from sqlglot.tokens import Tokenizer

from amc_magic.errors import WindowError
from amc_magic.windows import local_time_text

CACHE_KEY_VERSION = 1


def normalise_sql(sql: str) -> str:
    """Return ``sql`` with comments dropped and tokens separated by single spaces.

    Whitespace and comments do not change the result; string literals, quoted identifiers and
    letter case are kept exactly as written. SQL the tokenizer cannot read (an unterminated
    string, say) falls back to collapsing runs of whitespace.
    """
    try:
        tokens = Tokenizer().tokenize(sql)
    except TokenError:
        return " ".join(sql.split())
    return " ".join(sql[token.start : token.end + 1] for token in tokens)


def zone_info(time_zone: str) -> ZoneInfo:
    """Return the IANA zone named ``time_zone``.

    Raises:
        WindowError: no such zone.
    """
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise WindowError(
            f"Unknown time zone {time_zone!r}.", hint="Use an IANA name such as UTC or America/New_York."
        ) from None


def wall_time(value: dt.datetime | None, time_zone: str) -> str | None:
    """Return the clock time AMC is sent for a window bound (:func:`amc_magic.windows.local_time_text`)."""
    if value is None:
        return None
    zone_info(time_zone)  # an unknown zone is a WindowError here too
    return local_time_text(value, time_zone)


def json_default(value: Any) -> Any:
    """Turn values JSON lacks into plain ones (for stored parameter values and the key)."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if hasattr(value, "tolist"):  # numpy arrays and scalars, pandas Series and Index
        return value.tolist()
    return str(value)  # Decimal, UUID and anything else


def plain_json(value: Any, *, sort_keys: bool = False) -> Any:
    """``value`` as plain JSON data (dates as ISO text, arrays as lists), as a database or a client reads it back."""
    return json.loads(json.dumps(value, default=json_default, sort_keys=sort_keys))


def cache_key(
    *,
    instance_id: str,
    rendered_sql: str,
    window_start: dt.datetime | None,
    window_end: dt.datetime | None,
    time_zone: str,
    window_type: str,
    options: Mapping[str, object],
) -> str:
    """Return a hex SHA-256 naming the result of one AMC request.

    Two requests share a key when they go to the same instance with the same SQL (up to
    whitespace and comments), the same window as AMC receives it (clock times in
    ``time_zone``; a naive bound is taken as already in that zone), and the same ``options``
    (whatever else the caller knows changes the result). A relative window such as
    ``MOST_RECENT_WEEK`` moves with time: put the day it was resolved on into ``options``.
    """
    payload = {
        "v": CACHE_KEY_VERSION,
        "instance_id": instance_id,
        "sql": normalise_sql(rendered_sql),
        "window": [wall_time(window_start, time_zone), wall_time(window_end, time_zone)],
        "time_zone": time_zone,
        "window_type": window_type,
        "options": dict(options),
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=json_default)
    return hashlib.sha256(encoded.encode()).hexdigest()
