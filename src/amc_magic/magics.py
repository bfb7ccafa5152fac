"""The ``%%amc`` cell magic and the ``%amc`` line commands.

The magic only parses and delegates: the line to :func:`amc_magic.options.parse_line`, the work to
:class:`amc_magic.session.Session`, the display to :mod:`amc_magic.panel`. There is no HTTP, SQL or
polling code here.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import replace
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, line_cell_magic, magics_class
from traitlets import CaselessStrEnum, Unicode, observe

from .errors import OptionError
from .options import OPTION_HELP, CellOptions, options_from_values, parse_line
from .panel import SilentStatus, StatusPanel, TextStatus

if TYPE_CHECKING:  # the session pulls in the engine, HTTP, pandas and the database: on first use only
    import pandas as pd

    from .report import ValidationReport
    from .executions import StatusView, ViewFactory
    from .session import Session

MAX_HISTORY_ROWS = 100_000

LINE_COMMANDS: dict[str, str] = {
    "connect": "`%amc connect INSTANCE_ID advertiser_id=ENTITY... marketplace_id=... [name=...]`: check access and remember an instance (never its secrets).",
    "instances": "`%amc instances`: the sandbox and every connected instance.",
    "history": "`%amc history [N]`: the last N executions submitted to AMC (default 20), newest first.",
    "show": "`%amc show ID`: everything recorded about one execution, SQL included; `%amc show bf_...` lists a backfill's periods.",
    "attach": "`%amc attach ID [VAR] [wait=false]`: follow a recorded execution (e.g. after a kernel restart) to its result.",
    "cancel": "`%amc cancel ID`: cancel an execution on AMC.",
    "result": "`%amc result ID [VAR]`: the stored result of an execution, without touching AMC.",
    "schema": "`%amc schema [TABLE] [instance=ID]`: the tables of an instance, or one table's columns.",
    "workflows": "`%amc workflows`: every saved workflow: name, wf_ id, versions, last run and status.",
    "workflow": "`%amc workflow NAME`: a workflow's versions, parameters and the SQL diff between versions.",
    "run": "`%amc run NAME [VAR] [key=value ...] [version=K]`: run a saved workflow or a standard analysis (analyses/NAME); key=value sets a parameter or an option.",
    "analyses": "`%amc analyses`: the standard analyses shipped with amc-magic, with their parameters and columns.",
    "sync": "`%amc sync NAME [instance=ID]`: create or update the workflow on AMC (its workflowId is the wf_ id).",
    "schedule": "`%amc schedule NAME every=day|week [hour=H] [day=Monday] [instance=ID]`: have AMC run a synced workflow daily or weekly (hour in UTC).",
    "schedules": "`%amc schedules [instance=ID]`: the AMC schedules of an instance.",
    "unschedule": "`%amc unschedule NAME [instance=ID]`: disable the workflow's schedule (its past runs stay).",
    "runs": "`%amc runs NAME [VAR] [instance=ID]`: pull the executions AMC ran of the workflow into history and cache.",
}
_NOT_SAVED = frozenset({"save", "description", "wait"})


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
        return self._run_query(parse_line(line), cell, self.shell.user_ns)

    def _run_query(self, options: CellOptions, cell: str, namespace: Any, workflow: tuple[str, int] | None = None) -> Any:
        """Run (or check, or save and run) one query; ``workflow`` links it to a saved version."""
        if options.sync and (options.is_backfill or not (options.save or workflow)):
            raise OptionError("sync=true works with save=NAME on one instance, without every=.", hint="Add save=NAME, or leave out sync=true.")
        if options.is_backfill:
            return self._run_backfill(options, cell, namespace)
        prepared = self.session.prepare(
            cell,
            namespace,
            instance=options.instance or self.default_instance,
            start=options.start,
            end=options.end,
            window=options.window,
            tz=options.tz,
            validate=options.validate,
        )
        if options.save:
            workflow = self._save(options, cell, namespace, prepared.errors)
        if workflow is not None:
            prepared = replace(prepared, workflow_uuid=workflow[0], workflow_version=workflow[1])
        if options.sync and workflow is not None and options.validate != "only":
            prepared = self._sync(prepared, namespace)
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

    def _save(self, options: CellOptions, cell: str, namespace: Any, errors: list[Any]) -> tuple[str, int] | None:
        """``save=NAME``: keep the template, its typed parameters and options as a workflow version."""
        if errors:  # validate=only with errors: the report fails the cell; nothing is saved
            return None
        from .workflows import save

        kept = {key: str(getattr(options, key)) for key in sorted(options.given) if key not in _NOT_SAVED}
        saved = save(self.session.store, options.save, cell, namespace, options=kept, description=options.description)
        state = f"saved as version {saved.version.version}" if saved.created else f"unchanged (version {saved.version.version})"
        print(f"Workflow {saved.workflow.name} ({saved.workflow.workflow_id}) {state}.", file=sys.stderr)
        return saved.workflow.id, saved.version.version

    def _run_backfill(self, options: CellOptions, cell: str, namespace: Any) -> Any:
        """``every=`` or ``instance=a,b``: one execution per period and instance, one DataFrame."""
        from .backfill import BackfillRequest
        from .report import ValidationReport

        request = BackfillRequest(
            cell,
            namespace,
            instances=options.instances(self.default_instance),
            start=options.start,
            end=options.end,
            window=options.window,
            tz=options.tz,
            every=options.every,
            week_start=options.week_start,
            concurrency=options.concurrency,
            validate=options.validate,
        )
        plan = self.session.plan_backfill(request)
        if options.validate == "only":
            return self._validation_only(options.var, ValidationReport(plan.cells[0].prepared))
        for warning in plan.warnings:
            print(f"Warning: {warning}", file=sys.stderr)
        view = self._backfill_view(plan, cancellable=not options.wait)
        job = self.session.start_backfill(plan, view=view, cache=options.cache, timeout=options.timeout)
        if view is not None:
            view.job = job  # the panel's Cancel button cancels every unfinished period
        return self._bind(options.var, job if not options.wait else self.session.wait(job))

    def _backfill_view(self, plan: Any, *, cancellable: bool) -> Any:
        from .backfill_board import BackfillPanel, BackfillText, BoardState

        mode = self.display.lower()
        if mode == "auto":
            mode = "widget" if _in_kernel(self.shell) else "text"
        if mode == "none":
            return None
        state = BoardState(plan.labels(), len(plan.instance_ids), plan.concurrency)
        if mode == "text":
            return BackfillText(state)
        panel = BackfillPanel(state, plan.instance_ids, cancellable=cancellable)
        from IPython.display import display

        display(panel.widget)
        return panel

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

    def _cmd_show(self, positional: list[str], keywords: dict[str, str]) -> Any:
        _expect(positional, 1, "show", "ID")
        _only(keywords, set(), "show")
        from .report import execution_details

        if positional[0].lower().startswith("bf_"):
            return self.session.backfill_frame(positional[0])

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

    def _cmd_workflows(self, positional: list[str], keywords: dict[str, str]) -> pd.DataFrame:
        _expect(positional, 0, "workflows", "")
        _only(keywords, set(), "workflows")
        from .workflows import workflows_frame

        return workflows_frame(self.session.store)

    def _cmd_workflow(self, positional: list[str], keywords: dict[str, str]) -> Any:
        _expect(positional, 1, "workflow", "NAME")
        _only(keywords, set(), "workflow")
        from .workflows import show

        return show(self.session.store, positional[0])

    def _cmd_run(self, positional: list[str], keywords: dict[str, str]) -> Any:
        _expect(positional, (1, 2), "run", "NAME [VAR]")
        from .workflows import resolve_run

        version_text = keywords.pop("version", None)
        if version_text is not None and not version_text.isdigit():
            raise OptionError(f"version={version_text} is not a version number.", hint=LINE_COMMANDS["run"])
        line_options = {k: v for k, v in keywords.items() if k.lower() in OPTION_HELP and k.lower() not in _NOT_SAVED}
        overrides = {k: v for k, v in keywords.items() if k.lower() not in OPTION_HELP}
        var = parse_line(positional[1]).var if len(positional) == 2 else None
        if positional[0].startswith("analyses/"):
            from .analyses import get_analysis

            analysis = get_analysis(positional[0])
            values = analysis.values({p.name: _typed(p.type, overrides[p.name]) for p in analysis.parameters if p.name in overrides})
            return self._run_query(options_from_values(var, line_options), analysis.sql, values)
        plan = resolve_run(
            self.session.store, positional[0], version=int(version_text) if version_text else None,
            namespace=self.shell.user_ns, overrides=overrides,
        )
        options = options_from_values(var, {**{k: str(v) for k, v in plan.options.items()}, **line_options})
        return self._run_query(options, plan.sql_template, plan.namespace, workflow=(plan.workflow_uuid, plan.workflow_version))

    def _cmd_analyses(self, positional: list[str], keywords: dict[str, str]) -> pd.DataFrame:
        _expect(positional, 0, "analyses", "")
        _only(keywords, set(), "analyses")
        import pandas as pd

        from .analyses import list_analyses

        return pd.DataFrame(list_analyses())

    def _cmd_schema(self, positional: list[str], keywords: dict[str, str]) -> pd.DataFrame:
        _expect(positional, (0, 1), "schema", "[TABLE]")
        _only(keywords, {"instance"}, "schema")
        return self.session.schema(positional[0] if positional else None, instance=keywords.get("instance") or self.default_instance)

    # --- workflows on AMC -------------------------------------------------------------------

    def _sync(self, prepared: Any, namespace: Any) -> Any:
        """``sync=true``: mirror the saved workflow to AMC and run it there by ``workflowId``."""
        from .workflow_commands import synced_query

        prepared, result = synced_query(self.session, prepared, namespace)
        print(f"Workflow {result.workflow_id} {result.action} on {result.instance_id} (version {result.version}); it runs there by workflowId.", file=sys.stderr)
        return prepared

    def _cmd_sync(self, positional: list[str], keywords: dict[str, str]) -> None:
        _expect(positional, 1, "sync", "NAME")
        _only(keywords, {"instance"}, "sync")
        from .workflow_commands import sync_workflow

        result = sync_workflow(self.session, positional[0], keywords.get("instance") or self.default_instance)
        done = "is already" if result.action == "unchanged" else f"{result.action}:"
        print(f"AMC workflow {result.workflow_id} on {result.instance_id} {done} version {result.version}.")

    def _cmd_schedule(self, positional: list[str], keywords: dict[str, str]) -> None:
        _expect(positional, 1, "schedule", "NAME every=day|week")
        _only(keywords, {"every", "hour", "day", "instance"}, "schedule")
        if "every" not in keywords:
            raise OptionError("%amc schedule needs every=day or every=week.", hint=LINE_COMMANDS["schedule"])
        from .workflow_commands import schedule_workflow, stale_sync

        instance = keywords.get("instance") or self.default_instance
        schedule = schedule_workflow(self.session, positional[0], instance, keywords["every"], hour=keywords.get("hour"), day=keywords.get("day"))
        when = f"{schedule.get('aggregationPeriod', '').lower()} at {int(schedule.get('aggregationHourUtc') or 0):02d}:00 UTC"
        if schedule.get("aggregationPeriod") == "Weekly":
            when += f" on {schedule.get('aggregationStartDay')}s"
        print(
            f"Schedule {schedule.get('scheduleId')} runs {schedule.get('workflowId')} {when}, each run over the period just ended. "
            f"%amc runs {shlex.quote(positional[0])} pulls its runs into history."
        )
        warning = stale_sync(self.session, positional[0], instance)
        if warning:
            print(f"Warning: {warning}", file=sys.stderr)

    def _cmd_schedules(self, positional: list[str], keywords: dict[str, str]) -> pd.DataFrame:
        _expect(positional, 0, "schedules", "")
        _only(keywords, {"instance"}, "schedules")
        from .workflow_commands import list_schedules

        return list_schedules(self.session, keywords.get("instance") or self.default_instance)

    def _cmd_unschedule(self, positional: list[str], keywords: dict[str, str]) -> None:
        _expect(positional, 1, "unschedule", "NAME")
        _only(keywords, {"instance"}, "unschedule")
        from .workflow_commands import unschedule_workflow

        for schedule in unschedule_workflow(self.session, positional[0], keywords.get("instance") or self.default_instance):
            print(f"Schedule {schedule.get('scheduleId')} is disabled: AMC starts no more runs of {schedule.get('workflowId')} (the runs it made stay).")

    def _cmd_runs(self, positional: list[str], keywords: dict[str, str]) -> Any:
        _expect(positional, (1, 2), "runs", "NAME [VAR]")
        _only(keywords, {"instance"}, "runs")
        from .workflow_commands import pull_workflow_runs

        var = parse_line(positional[1]).var if len(positional) == 2 else None
        frame = pull_workflow_runs(self.session, positional[0], keywords.get("instance") or self.default_instance)
        stored = int(frame["rows"].notna().sum())
        live = int(frame["status"].isin(["PENDING", "RUNNING"]).sum())
        following = f", {live} still running (their results are stored when they end)" if live else ""
        if frame.empty:
            print(f"AMC has no new runs of {positional[0]}.")
        else:
            print(f"Pulled {len(frame)} new run{'s' if len(frame) != 1 else ''} of {positional[0]} from AMC: {stored} with results stored{following}.")
        return self._bind(var, frame)


def _typed(kind: str, text: str) -> Any:
    """A ``key=value`` text as an analysis parameter of type ``kind`` (lists are comma-separated)."""
    if kind.startswith("list"):
        return [item.strip() for item in text.split(",") if item.strip()]
    if kind == "int" and text.lstrip("-").isdigit():
        return int(text)
    if kind == "bool" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _in_kernel(shell: Any) -> bool:
    """Whether the shell runs in a Jupyter kernel (a widget frontend may be attached)."""
    return type(shell).__name__ == "ZMQInteractiveShell"


def _split_args(command: str, words: list[str]) -> tuple[list[str], dict[str, str]]:
    positional: list[str] = []
    keywords: dict[str, str] = {}
    for word in words:
        if "=" in word:
            key, _, value = word.partition("=")
            key = key.strip() if command == "run" else key.strip().lower()  # parameter names keep their case
            if key in keywords:
                raise OptionError(f"%amc {command} is given {key}= twice.", hint=LINE_COMMANDS[command])
            keywords[key] = value.strip()
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
