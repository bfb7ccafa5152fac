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
from enum import StrEnum

from .errors import OptionError

class CacheMode(StrEnum):
    """``cache=``: reuse an identical result or running execution, run again, or neither."""

    TRUE = "true"
    FALSE = "false"
    REFRESH = "refresh"


class ValidateMode(StrEnum):
    """``validate=``: check before submitting, skip the checks, or only render and check."""

    TRUE = "true"
    FALSE = "false"
    ONLY = "only"

OPTION_HELP: dict[str, str] = {
    "instance": "AMC instance id, or `sandbox` for the built-in emulator (default: AMCMagic.default_instance); a,b runs on each.",
    "start": "Window start: an ISO date or datetime, in `tz`.",
    "end": "Window end: an ISO date (inclusive) or datetime (exclusive), in `tz`.",
    "tz": "IANA time zone of the window, sent as timeWindowTimeZone (default UTC).",
    "window": "most_recent_day, most_recent_week, current_month, previous_month or last_N_days, instead of start/end.",
    "wait": "true (default) blocks until the result; false returns a handle at once.",
    "cache": "true (default) reuses an identical result or running execution; refresh re-runs; false neither reads nor reuses.",
    "validate": "true (default) checks the SQL before submitting; false skips the checks; only renders and checks without submitting.",
    "timeout": "Seconds to wait before giving up (the execution keeps running on AMC).",
    "every": "day, week or month: one execution per calendar period of the window (a backfill).",
    "week_start": "monday (default) or sunday: the first day of an every=week period.",
    "concurrency": "A backfill's executions in flight per instance, 1 to 10 (default 10), held across processes.",
    "save": "Save the cell's SQL template, parameters and options as a new version of workflow NAME, then run it.",
    "description": "A description of the workflow saved with save=.",
    "sync": "true (with save=NAME) also creates or updates the workflow on AMC and runs it there by workflowId.",
}

MAX_CONCURRENCY = 10
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
    cache: CacheMode = CacheMode.TRUE
    validate: ValidateMode = ValidateMode.TRUE
    timeout: float | None = None
    every: str | None = None
    week_start: str = "monday"
    concurrency: int = 10
    save: str | None = None
    description: str | None = None
    sync: bool = False
    given: frozenset[str] = field(default_factory=frozenset)

    def instances(self, default: str) -> tuple[str, ...]:
        """The instances to run on: ``instance=a,b`` split, or ``default``."""
        return tuple(name.strip() for name in (self.instance or default).split(","))

    @property
    def is_backfill(self) -> bool:
        """Whether the cell runs per period (``every=``) or on several instances."""
        return self.every is not None or "," in (self.instance or "")


@dataclass(frozen=True)
class Words:
    """A magic line split by the one grammar every ``%%amc`` and ``%amc`` line follows.

    ``word word key=value "quoted word" key="quoted value"``: shell-style words; a word with ``=``
    is an assignment (the key before the first ``=``), any other word is positional.

    Attributes:
        positional: the words without ``=``, in order.
        keywords: the assignments, by key.
        first_is_positional: whether the line starts with a positional word.
    """

    positional: tuple[str, ...]
    keywords: dict[str, str]
    first_is_positional: bool


def split_line(line: str, *, where: str, lower_keys: bool = True) -> Words:
    """Split ``line`` (``where`` names it in errors: ``the %%amc line``, ``%amc run``).

    Args:
        lower_keys: compare keys case-insensitively (options); False keeps them (parameter names).

    Raises:
        OptionError: an unclosed quote, or a key given twice.
    """
    try:
        words = shlex.split(line, comments=False, posix=True)
    except ValueError as exc:
        raise OptionError(f"Cannot read {where}: {exc}.", hint="Close every quote on the line.") from None
    positional: list[str] = []
    keywords: dict[str, str] = {}
    for word in words:
        if "=" not in word:
            positional.append(word)
            continue
        key, _, value = word.partition("=")
        key = key.strip().lower() if lower_keys else key.strip()
        if key in keywords:
            raise OptionError(f"{key}= is given twice on {where}.", hint="Give each option once.")
        keywords[key] = value
    return Words(tuple(positional), keywords, bool(words) and "=" not in words[0])


def parse_line(line: str) -> CellOptions:
    """Parse a magic line into :class:`CellOptions`.

    Raises:
        OptionError: on an unknown option, a bad value, a repeated option or a bad variable name.
    """
    words = split_line(line, where="the %%amc line")
    extra = words.positional[1:] if words.first_is_positional else words.positional
    if extra:
        raise OptionError(
            f"Unexpected word {extra[0]!r} on the %%amc line.",
            hint="Write the result variable first, then options as key=value: %%amc reach start=2026-03-01",
        )
    var = variable_name(words.positional[0]) if words.first_is_positional else None
    return _build(var, words.keywords)


def options_from_values(var: str | None, values: dict[str, str]) -> CellOptions:
    """:class:`CellOptions` from option values already split (a saved workflow's, a line command's).

    Raises:
        OptionError: an unknown option or a bad value.
    """
    return _build(var, {key.strip().lower(): str(value) for key, value in values.items()})


def variable_name(word: str) -> str:
    """``word`` as the name of a result variable.

    Raises:
        OptionError: it is not a valid Python identifier (or is a keyword).
    """
    if not word.isidentifier() or keyword.iskeyword(word):
        raise OptionError(
            f"{word!r} is not a valid Python variable name for the result.",
            hint="Use a name such as `reach` or `df`, or leave it out to get the result as the cell's output.",
        )
    return word


def _build(var: str | None, values: dict[str, str]) -> CellOptions:
    kwargs: dict[str, object] = {}
    for key, raw in values.items():
        if key not in OPTION_HELP:
            raise OptionError(f"Unknown option {key!r}.{_suggest(key, OPTION_HELP)}", hint=_allowed())
        kwargs[key] = convert_option(key, raw)
    if "instance" in kwargs and not all(name.strip() for name in str(kwargs["instance"]).split(",")):
        raise OptionError(f"instance={kwargs['instance']} has an empty name.", hint="Separate instance names with commas: instance=sandbox,amc123.")
    return CellOptions(var=var, given=frozenset(values), **kwargs)  # type: ignore[arg-type]


def convert_option(key: str, raw: str) -> object:
    """The value of one option given as text (the magic line, the Python API and the CLI share it).

    Raises:
        OptionError: a bad value.
    """
    value = raw.strip()
    if key in ("instance", "start", "end", "tz", "window", "save", "description"):
        if not value:
            raise OptionError(f"Option {key!r} needs a value.", hint=f"{key}: {OPTION_HELP[key]}")
        return value
    if key in ("wait", "sync"):
        return _boolean(key, value)
    if key == "cache":
        return CacheMode(_choice(key, value, tuple(CacheMode)))
    if key == "validate":
        return ValidateMode(_choice(key, value, tuple(ValidateMode)))
    if key == "timeout":
        return parse_timeout(raw)
    if key == "every":
        return _choice(key, value, ("day", "week", "month"))
    if key == "week_start":
        return _choice(key, value, ("monday", "sunday"))
    if key == "concurrency":
        return check_concurrency(value)
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


def check_concurrency(value: object) -> int:
    """A per-instance cap: a whole number from 1 to 10 (AMC runs at most 10 per instance).

    Raises:
        OptionError: anything else.
    """
    text = str(value).strip()
    number = int(text) if text.isdigit() else 0
    if not 1 <= number <= MAX_CONCURRENCY:
        raise OptionError(
            f"concurrency={value} is not a whole number from 1 to {MAX_CONCURRENCY}.",
            hint=f"AMC runs at most {MAX_CONCURRENCY} executions per instance; for example concurrency=5.",
        )
    return number


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
