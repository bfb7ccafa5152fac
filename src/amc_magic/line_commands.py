"""The ``%amc`` line commands: history, instances, schema, workflows and schedules.

:class:`LineCommands` is mixed into :class:`~amc_magic.magics.AMCMagic`; every command parses its
words with the one line grammar (:func:`amc_magic.options.split_line`) and delegates to the
session or to :mod:`amc_magic.workflow_commands`. The mixin relies on the magic's ``session``,
``default_instance``, ``shell`` and its ``_bind``, ``_views`` and ``_run_query`` methods.
"""

from __future__ import annotations

import shlex
import sys
from typing import TYPE_CHECKING, Any

from .errors import OptionError
from .options import OPTION_HELP, options_from_values, split_line, variable_name

if TYPE_CHECKING:
    import pandas as pd

MAX_HISTORY_ROWS = 100_000

LINE_COMMANDS: dict[str, str] = {
    "connect": "`%amc connect INSTANCE_ID advertiser_id=ENTITY... marketplace_id=... [name=...]`: check access and remember an instance (never its secrets).",
    "instances": "`%amc instances`: the sandbox and every connected instance.",
    "history": "`%amc history [N]`: the last N lines of history (default 20), newest first: one per execution submitted to AMC, one per backfill.",
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


class LineCommands:
    """The ``_cmd_*`` handler of each ``%amc`` command (see :data:`LINE_COMMANDS`)."""

    def _line_command(self, line: str) -> Any:
        command = line.split(maxsplit=1)[0].lower() if line.strip() else ""
        if not command:
            raise OptionError("%amc needs a command.", hint=_commands_hint())
        handler = getattr(self, f"_cmd_{command}", None)
        if command not in LINE_COMMANDS or handler is None:
            raise OptionError(f"Unknown %amc command {command!r}.", hint=_commands_hint())
        # parameter names (``%amc run NAME campaigns=...``) keep their case; option names do not
        words = split_line(line, where=f"%amc {command}", lower_keys=command != "run")
        return handler(list(words.positional[1:]), {k: v.strip() for k, v in words.keywords.items()})

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
        if positional and int(positional[0]) < 1:
            raise OptionError("%amc history N: N must be at least 1.", hint=LINE_COMMANDS["history"])
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
        options = options_from_values(_variable(positional), keywords)
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
        var = _variable(positional)
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
        line_options = {k: v for k, v in keywords.items() if k.lower() in OPTION_HELP and k.lower() not in ("save", "description")}
        overrides = {k: v for k, v in keywords.items() if k.lower() not in OPTION_HELP}
        var = _variable(positional)
        if positional[0].startswith("analyses/"):
            from .analyses import get_analysis

            analysis = get_analysis(positional[0])
            values = analysis.values({p.name: _typed(p.type, overrides[p.name]) for p in analysis.parameters if p.name in overrides})
            return self._run_query(options_from_values(var, line_options), analysis.sql, values)
        plan = resolve_run(
            self.session.store, positional[0], version=int(version_text) if version_text else None,
            namespace=self.shell.user_ns, overrides=overrides,
        )
        saved = plan.options_beside({k.lower(): v for k, v in line_options.items()})
        options = options_from_values(var, {**{k: str(v) for k, v in saved.items()}, **line_options})
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

        var = _variable(positional)
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


def _variable(positional: list[str]) -> str | None:
    """The result variable: the word after the command's own argument, if any."""
    return variable_name(positional[1]) if len(positional) == 2 else None


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
