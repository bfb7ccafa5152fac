"""The ``%%amc`` cell magic (the ``%amc`` line commands are in :mod:`amc_magic.line_commands`).

The magic only parses and delegates: the line to :func:`amc_magic.options.parse_line`, the work to
:class:`amc_magic.session.Session`, the display to :mod:`amc_magic.panel`. There is no HTTP, SQL or
polling code here.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, line_cell_magic, magics_class
from traitlets import CaselessStrEnum, Unicode, observe

from .errors import OptionError
from .line_commands import LineCommands
from .options import CellOptions, parse_line
from .panel import SilentStatus, StatusPanel, TextStatus

if TYPE_CHECKING:  # the session pulls in the engine, HTTP, pandas and the database: on first use only
    from .report import ValidationReport
    from .executions import StatusView, ViewFactory
    from .session import Session



@magics_class
class AMCMagic(LineCommands, Magics):
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
        if workflow is None and not options.is_backfill and options.given & {"concurrency", "week_start"}:
            name = "concurrency" if "concurrency" in options.given else "week_start"
            raise OptionError(
                f"{name}= applies to a backfill (every= or instance=a,b); this cell runs one execution.",
                hint=f"Add every=day, every=week or every=month, or leave out {name}=.",
            )
        if options.is_backfill:
            return self._run_backfill(options, cell, namespace, workflow)
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

        given = {key: str(getattr(options, key)) for key in sorted(options.given)}
        saved = save(self.session.store, options.save, cell, namespace, options=given, description=options.description)
        state = f"saved as version {saved.version.version}" if saved.created else f"unchanged (version {saved.version.version})"
        print(f"Workflow {saved.workflow.name} ({saved.workflow.workflow_id}) {state}.", file=sys.stderr)
        return saved.workflow.id, saved.version.version

    def _run_backfill(self, options: CellOptions, cell: str, namespace: Any, workflow: tuple[str, int] | None) -> Any:
        """``every=`` or ``instance=a,b``: one execution per period and instance, one DataFrame.

        With ``save=`` the template is saved once the checks pass; every period links to the version.
        """
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
            workflow=workflow,
        )
        plan = self.session.plan_backfill(request)
        if options.save:
            saved = self._save(options, cell, namespace, plan.cells[0].prepared.errors)
            if saved is not None:
                plan = plan.linked_to(saved)
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
        """Show the report (returned, or displayed when it goes into ``var``); with errors, fail the cell (a headless run stops)."""
        if report.ok and var is None:
            return report
        from IPython.display import display

        self._bind(var, report)
        display(report)
        if not report.ok:
            raise report.error()
        return None

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
                return TextStatus(instance_id, errors_raised=not cancellable)  # a blocking cell raises the error itself
            panel = StatusPanel(instance_id, on_cancel=cancel if cancellable else None)
            from IPython.display import display

            display(panel)
            return panel

        return make

    def _sync(self, prepared: Any, namespace: Any) -> Any:
        """``sync=true``: mirror the saved workflow to AMC and run it there by ``workflowId``."""
        from .workflow_commands import synced_query

        prepared, result = synced_query(self.session, prepared, namespace)
        print(f"Workflow {result.workflow_id} {result.action} on {result.instance_id} (version {result.version}); it runs there by workflowId.", file=sys.stderr)
        return prepared


def _in_kernel(shell: Any) -> bool:
    """Whether the shell runs in a Jupyter kernel (a widget frontend may be attached)."""
    return type(shell).__name__ == "ZMQInteractiveShell"
