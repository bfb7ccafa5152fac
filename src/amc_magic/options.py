"""Parse the ``%%amc`` magic line: ``[VAR] [key=value ...]``.

A pure function from the line's text to a :class:`CellOptions`. IPython has already expanded
``{expr}`` and ``$name`` in the line before it reaches us. Every mistake is an :class:`OptionError`
that names the option and lists what is allowed; nothing is submitted when parsing fails.
"""

from __future__ import annotations

import difflib
import keyword
import math
import shlex
from dataclasses import dataclass, field
from typing import Literal

from .errors import OptionError

CacheMode = Literal["true", "false", "refresh"]
ValidateMode = Literal["true", "false", "only"]

OPTION_HELP: dict[str, str] = {
    "instance": "AMC instance id, or `sandbox` for the built-in emulator (default: AMCMagic.default_instance).",
    "start": "Window start: an ISO date or datetime, in `tz`.",
    "end": "Window end: an ISO date (inclusive) or datetime (exclusive), in `tz`.",
    "tz": "IANA time zone of the window, sent as timeWindowTimeZone (default UTC).",
    "window": "most_recent_day, most_recent_week, current_month, previous_month or last_N_days, instead of start/end.",
    "wait": "true (default) blocks until the result; false returns a handle at once.",
    "cache": "true (default) reuses an identical result or running execution; refresh re-runs; false neither reads nor reuses.",
    "validate": "true (default) checks the SQL before submitting; false skips the checks; only renders and checks without submitting.",
    "timeout": "Seconds to wait before giving up (the execution keeps running on AMC).",
}

_PLANNED = {
    "every": "splitting a window into one execution per period",
    "concurrency": "a per-cell concurrency cap",
}

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


@dataclass(frozen=True)
class CellOptions:
    """What the magic line asked for. ``None`` means "use the configured default"."""

    var: str | None = None
    instance: str | None = None
    start: str | None = None
    end: str | None = None
    tz: str = "UTC"
    window: str | None = None
    wait: bool = True
    cache: CacheMode = "true"
    validate: ValidateMode = "true"
    timeout: float | None = None
    given: frozenset[str] = field(default_factory=frozenset)


def parse_line(line: str) -> CellOptions:
    """Parse a magic line into :class:`CellOptions`.

    Raises:
        OptionError: on an unknown option, a bad value, a repeated option or a bad variable name.
    """
    try:
        words = shlex.split(line, comments=False, posix=True)
    except ValueError as exc:
        raise OptionError(f"Cannot read the %%amc line: {exc}.", hint="Close every quote on the magic line.") from None

    var: str | None = None
    values: dict[str, str] = {}
    for position, word in enumerate(words):
        if "=" not in word:
            if position != 0:
                raise OptionError(
                    f"Unexpected word {word!r} on the %%amc line.",
                    hint="Write the result variable first, then options as key=value: %%amc reach start=2026-03-01",
                )
            var = _variable_name(word)
            continue
        key, _, value = word.partition("=")
        key = key.strip().lower()
        if key in values:
            raise OptionError(f"Option {key!r} is given twice.", hint="Give each option once.")
        values[key] = value
    return _build(var, values)


def _variable_name(word: str) -> str:
    if not word.isidentifier() or keyword.iskeyword(word):
        raise OptionError(
            f"{word!r} is not a valid Python variable name for the result.",
            hint="Use a name such as `reach` or `df`, or leave it out to get the result as the cell's output.",
        )
    return word


def _build(var: str | None, values: dict[str, str]) -> CellOptions:
    kwargs: dict[str, object] = {}
    for key, raw in values.items():
        if key in _PLANNED:
            raise OptionError(
                f"Option {key!r} ({_PLANNED[key]}) is not available yet.",
                hint="Run one execution per period for now, e.g. in a Python loop over amc_magic.submit().",
            )
        if key not in OPTION_HELP:
            raise OptionError(f"Unknown option {key!r}.{_suggest(key, OPTION_HELP)}", hint=_allowed())
        kwargs[key] = _convert(key, raw)
    if "instance" in kwargs and "," in str(kwargs["instance"]):
        raise OptionError(
            "Running one query across several instances (instance=a,b) is not available yet.",
            hint="Run the cell once per instance.",
        )
    return CellOptions(var=var, given=frozenset(values), **kwargs)  # type: ignore[arg-type]


def _convert(key: str, raw: str) -> object:
    value = raw.strip()
    if key in ("instance", "start", "end", "tz", "window"):
        if not value:
            raise OptionError(f"Option {key!r} needs a value.", hint=f"{key}: {OPTION_HELP[key]}")
        return value
    if key == "wait":
        return _boolean(key, value)
    if key == "cache":
        return _choice(key, value, ("true", "false", "refresh"))
    if key == "validate":
        return _choice(key, value, ("true", "false", "only"))
    if key == "timeout":
        return parse_timeout(raw)
    raise AssertionError(key)  # pragma: no cover - OPTION_HELP and this function list the same keys


def parse_timeout(raw: object) -> float:
    """A timeout in seconds: a finite positive number (as a number or text).

    Raises:
        OptionError: anything else (zero, negative, NaN, infinity, not a number).
    """
    try:
        seconds = float(str(raw).strip())
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise OptionError(f"timeout={raw!r} is not a positive number of seconds.", hint="For example timeout=600.")
    return seconds


def _boolean(key: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise OptionError(f"{key}={value!r} is not true or false.", hint=f"{key}: {OPTION_HELP[key]}")


def _choice(key: str, value: str, allowed: tuple[str, ...]) -> str:
    lowered = value.lower()
    if lowered in _TRUE:
        lowered = "true"
    elif lowered in _FALSE:
        lowered = "false"
    if lowered not in allowed:
        raise OptionError(f"{key}={value!r} is not one of {', '.join(allowed)}.", hint=f"{key}: {OPTION_HELP[key]}")
    return lowered


def _suggest(word: str, choices: dict[str, str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _allowed() -> str:
    return "Options are: " + ", ".join(f"{k}=" for k in OPTION_HELP) + "."
