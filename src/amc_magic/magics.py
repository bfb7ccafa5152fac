"""The ``%%amc`` cell magic and the ``%amc`` line commands.

The magic only parses and delegates: the line to :func:`amc_magic.options.parse_line`, the work to
:class:`amc_magic.session.Session`, the display to :mod:`amc_magic.panel`. There is no HTTP, SQL or
polling code here.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, line_cell_magic, magics_class
from traitlets import CaselessStrEnum, Unicode, observe

from .errors import OptionError
from .options import parse_line
from .panel import SilentStatus, StatusPanel, TextStatus

if TYPE_CHECKING:  # the session pulls in the engine, HTTP, pandas and the database: on first use only
    import pandas as pd

    from .report import ValidationReport
    from .session import Session, StatusView, ViewFactory

MAX_HISTORY_ROWS = 100_000

LINE_COMMANDS: dict[str, str] = {
    "connect": "`%amc connect INSTANCE_ID advertiser_id=ENTITY... marketplace_id=... [name=...]`: check access and remember an instance (never its secrets).",
    "instances": "`%amc instances`: the sandbox and every connected instance.",
    "history": "`%amc history [N]`: the last N executions submitted to AMC (default 20), newest first.",
    "show": "`%amc show ID`: everything recorded about one execution, SQL included.",
    "attach": "`%amc attach ID [VAR] [wait=false]`: follow a recorded execution (e.g. after a kernel restart) to its result.",
    "cancel": "`%amc cancel ID`: cancel an execution on AMC.",
    "result": "`%amc result ID [VAR]`: the stored result of an execution, without touching AMC.",
    "schema": "`%amc schema [TABLE] [instance=ID]`: the tables of an instance, or one table's columns.",
}


@magics_class
class AMCMagic(Magics):
    """Run Amazon Marketing Cloud SQL from a notebook (``%load_ext amc_magic``)."""

    default_instance = Unicode("sandbox", help="Instance used when a cell gives no instance=.").tag(config=True)
    database_url = Unicode(
        None, allow_none=True, help="History database URL (default: AMC_MAGIC_DB_URL or a SQLite file)."
    ).tag(config=True)
    display = CaselessStrEnum(
        ["auto", "widget", "text", "none"],
        default_value="auto",
        help="Status display: auto (a widget in a kernel, text elsewhere), widget, text or none.",
    ).tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell, **kwargs)
        self._session: Session | None = None
        self._owns_session = False

    @property
    def session(self) -> Session:
        """The session of this shell, created on first use.

        Without a configured ``database_url`` it is the Python API's process-wide session, so that
        ``amc_magic.submit()`` jobs and ``%amc`` commands see the same executions and sandbox.
        """
        if self._session is None:
            from .api import default_session
            from .session import Session

            if self.database_url:
                self._session, self._owns_session = Session(database_url=self.database_url), True
            else:
                self._session, self._owns_session = default_session(), False
        return self._session

    @session.setter
    def session(self, session: Session) -> None:
        """Use ``session`` from now on (e.g. a tuned sandbox); this magic closes it when done."""
        if session is not self._session:
            self.close()
        self._session, self._owns_session = session, True

    @observe("database_url")
    def _database_changed(self, change: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the session if this magic owns it (a new one starts on the next use)."""
        if self._session is not None and self._owns_session:
            self._session.close()
        self._session = None

    @line_cell_magic
    def amc(self, line: str, cell: str | None = None) -> Any:
        """``%%amc [VAR] [key=value ...]`` runs the cell's AMC SQL; ``%amc COMMAND ...`` manages history."""
        if cell is None:
            return self._line_command(line)
        return self._run_cell(line, cell)

    # --- %%amc ------------------------------------------------------------------------------

    def _run_cell(self, line: str, cell: str) -> Any:
        options = parse_line(line)
        prepared = self.session.prepare(
            cell,
            self.shell.user_ns,
            instance=options.instance or self.default_instance,
            start=options.start,
            end=options.end,
            window=options.window,
            tz=options.tz,
            validate=options.validate,
        )
        if options.validate == "only":  # the report shows the warnings itself
            from .report import ValidationReport

            return self._validation_only(options.var, ValidationReport(prepared))
        for warning in prepared.window.warnings:
            print(f"Warning: {warning}", file=sys.stderr)
        for problem in prepared.problems:
            if problem.severity == "warning":
                print(f"Warning: {problem.format()}", file=sys.stderr)
        if not options.wait:
            job = self.session.start(prepared, view_factory=self._views(cancellable=True), cache=options.cache, timeout=options.timeout)
            return self._bind(options.var, job)
        frame = self.session.run(prepared, view_factory=self._views(cancellable=False), cache=options.cache, timeout=options.timeout)
        return self._bind(options.var, frame)

    def _validation_only(self, var: str | None, report: ValidationReport) -> Any:
        """Bind or return the report; with errors, show it and fail the cell (a headless run stops)."""
        if report.ok:
            return self._bind(var, report)
        from IPython.display import display

        self._bind(var, report)
        display(report)
        raise report.error()

    def _bind(self, var: str | None, value: Any) -> Any:
        if var is None:
            return value
        self.shell.user_ns[var] = value
        return None

    def _views(self, *, cancellable: bool) -> ViewFactory:
        """A factory of status views for the configured display mode."""
        mode = self.display.lower()
        if mode == "auto":
            mode = "widget" if _in_kernel(self.shell) else "text"

        def make(instance_id: str, cancel: Callable[[], None]) -> StatusView:
            if mode == "none":
                return SilentStatus()
            if mode == "text":
                return TextStatus(instance_id)
            panel = StatusPanel(instance_id, on_cancel=cancel if cancellable else None)
            from IPython.display import display

            display(panel)
            return panel

        return make

    # --- %amc -------------------------------------------------------------------------------

    def _line_command(self, line: str) -> Any:
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise OptionError(f"Cannot read the %amc line: {exc}.") from None
        if not words:
            raise OptionError("%amc needs a command.", hint=_commands_hint())
        command, args = words[0].lower(), words[1:]
        handler = getattr(self, f"_cmd_{command}", None)
        if command not in LINE_COMMANDS or handler is None:
            raise OptionError(f"Unknown %amc command {command!r}.", hint=_commands_hint())
        return handler(*_split_args(command, args))

    def _cmd_connect(self, positional: list[str], keywords: dict[str, str]) -> Any:
        _expect(positional, 1, "connect", "INSTANCE_ID")
        missing = [k for k in ("advertiser_id", "marketplace_id") if not keywords.get(k)]
        if missing:
            raise OptionError(f"%amc connect needs {' and '.join(f'{k}=' for k in missing)}.", hint=LINE_COMMANDS["connect"])
        _only(keywords, {"advertiser_id", "marketplace_id", "name"}, "connect")
        info = self.session.connect(
            positional[0], advertiser_id=keywords["advertiser_id"], marketplace_id=keywords["marketplace_id"], name=keywords.get("name")
        )
        print(f"Connected {info['instance_id']} ({info['instance_type']}) at {info['api_url']}. Use instance={info['instance_id']} in %%amc cells.")
        return None

    def _cmd_instances(self, positional: list[str], keywords: dict[str, str]) -> pd.DataFrame:
        _expect(positional, 0, "instances", "")
        _only(keywords, set(), "instances")
        return self.session.instances()

    def _cmd_history(self, positional: list[str], keywords: dict[str, str]) -> pd.DataFrame:
        _only(keywords, set(), "history")
        if len(positional) > 1 or (positional and not positional[0].isdigit()):
            raise OptionError("%amc history takes one optional number.", hint=LINE_COMMANDS["history"])
        return self.session.history(min(int(positional[0]), MAX_HISTORY_ROWS) if positional else 20)

    def _cmd_show(self, positional: list[str], keywords: dict[str, str]) -> pd.Series:
        _expect(positional, 1, "show", "ID")
        _only(keywords, set(), "show")
        from .report import execution_details

        return execution_details(self.session.execution(positional[0]))

    def _cmd_attach(self, positional: list[str], keywords: dict[str, str]) -> Any:
        _expect(positional, (1, 2), "attach", "ID [VAR]")
        _only(keywords, {"wait", "timeout"}, "attach")
        options = parse_line(" ".join([*positional[1:], *(f"{k}={v}" for k, v in keywords.items())]))
        job = self.session.attach(
            positional[0], view_factory=self._views(cancellable=not options.wait), timeout=options.timeout, waited=options.wait
        )
        return self._bind(options.var, job if not options.wait else self.session.wait(job))

    def _cmd_cancel(self, positional: list[str], keywords: dict[str, str]) -> None:
        _expect(positional, 1, "cancel", "ID")
        _only(keywords, set(), "cancel")
        record = self.session.cancel(positional[0])
        print(f"Execution {record.short_id} ({record.amc_execution_id or 'not submitted'}) is {record.status}.")

    def _cmd_result(self, positional: list[str], keywords: dict[str, str]) -> Any:
        _expect(positional, (1, 2), "result", "ID [VAR]")
        _only(keywords, set(), "result")
        var = parse_line(positional[1]).var if len(positional) == 2 else None
        return self._bind(var, self.session.result(positional[0]))

    def _cmd_schema(self, positional: list[str], keywords: dict[str, str]) -> pd.DataFrame:
        _expect(positional, (0, 1), "schema", "[TABLE]")
        _only(keywords, {"instance"}, "schema")
        return self.session.schema(positional[0] if positional else None, instance=keywords.get("instance") or self.default_instance)


def _in_kernel(shell: Any) -> bool:
    """Whether the shell runs in a Jupyter kernel (a widget frontend may be attached)."""
    return type(shell).__name__ == "ZMQInteractiveShell"


def _split_args(command: str, words: list[str]) -> tuple[list[str], dict[str, str]]:
    positional: list[str] = []
    keywords: dict[str, str] = {}
    for word in words:
        if "=" in word:
            key, _, value = word.partition("=")
            keywords[key.strip().lower()] = value.strip()
        else:
            positional.append(word)
    return positional, keywords


def _expect(positional: list[str], count: int | tuple[int, int], command: str, usage: str) -> None:
    low, high = (count, count) if isinstance(count, int) else count
    if not low <= len(positional) <= high:
        raise OptionError(f"%amc {command} takes {usage or 'no arguments'}.", hint=LINE_COMMANDS[command])


def _only(keywords: dict[str, str], allowed: set[str], command: str) -> None:
    unknown = sorted(set(keywords) - allowed)
    if unknown:
        raise OptionError(f"%amc {command} does not take {', '.join(f'{k}=' for k in unknown)}.", hint=LINE_COMMANDS[command])


def _commands_hint() -> str:
    return "Commands: " + ", ".join(LINE_COMMANDS) + ". Run a query with %%amc in a cell of its own."
