"""What to tell the user about an execution that failed, or whose data may be incomplete."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from amc_magic.client.models import AmcExecution, parse_amc_time
from amc_magic.client.responses import ACCESS_HINT, COMPILE_HINT

DATA_LATENCY = timedelta(hours=48)
RECENT_DATA_HINT = "The time window reaches into the last 48 hours; AMC's data for that period may still be incomplete."

_ACCESS = re.compile(r"access|denied|forbidden|unauthori[sz]ed|permission|\b403\b", re.IGNORECASE)
_COMPILE = re.compile(r"compile|line \d+, column \d+|syntax", re.IGNORECASE)


def recent_data_hint(execution: AmcExecution, now: datetime) -> str | None:
    """The 48-hour latency warning if the execution's window ends less than 48 h before ``now``."""
    end = parse_amc_time(execution.raw.get("timeWindowEnd"))
    return RECENT_DATA_HINT if end is not None and end > now - DATA_LATENCY else None


def failure_hint(execution: AmcExecution, now: datetime) -> str | None:
    """What to check after AMC reported ``execution`` FAILED or REJECTED, from its reason and window."""
    reason = execution.status_reason or ""
    hints = []
    if _ACCESS.search(reason):
        hints.append(ACCESS_HINT[0].upper() + ACCESS_HINT[1:] + ".")
    if _COMPILE.search(reason):
        hints.append(COMPILE_HINT)
    recent = recent_data_hint(execution, now)
    if recent:
        hints.append(recent)
    return " ".join(hints) or None
