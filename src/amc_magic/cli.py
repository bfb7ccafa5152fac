"""The ``amc-magic`` command: ``run`` a query file, ``check`` query files, list ``history``, ``sandbox serve``.

``run`` goes through the same session, engine, history and cache as the notebook magic. Progress
goes to stderr, the table (or nothing, with ``-o``) to stdout. A failure exits non-zero with one
line saying what went wrong and what to do.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from .counts import counted
from .errors import AmcMagicError, OptionError, ParameterError
from .wording import COMMAND_LINE, full_hint

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _OneLineParser(argparse.ArgumentParser):
    """An argument parser that reports a usage mistake in one line, like every other failure."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (`{self.prog} --help` lists the options)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = _OneLineParser(prog="amc-magic", description="Run Amazon Marketing Cloud SQL; inspect history; serve the sandbox.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="Run one AMC SQL file through the engine, history and cache.")
    run.add_argument("file", type=Path, nargs="?", help="The .sql file ({{name}} placeholders take --param values).")
    run.add_argument("--workflow", help="Run a saved workflow (name, wf_ id or UUID) instead of a file; --param overrides its values.")
    run.add_argument("--instance", help="Instance id, or `sandbox` for the in-process emulator; a,b runs on each. Needed with FILE.sql; with --workflow, the workflow's saved instance, else sandbox, by default.")
    run.add_argument("--start", help="Window start: ISO date or datetime.")
    run.add_argument("--end", help="Window end: ISO date (inclusive) or datetime (exclusive).")
    run.add_argument("--window", help="most_recent_day, most_recent_week, current_month, previous_month or last_N_days.")
    run.add_argument("--tz", default="UTC", help="IANA time zone of the window (default UTC).")
    run.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="A {{NAME}} value; JSON is parsed (numbers, true/false, null, [lists]), anything else is a string. Repeatable.")
    run.add_argument("--cache", choices=["true", "false", "refresh"], default="true", help="Reuse an identical result (true), re-run (refresh), or neither (false).")
    run.add_argument("--no-validate", action="store_true", help="Skip the local SQL checks.")
    run.add_argument("--timeout", type=_timeout, help="Seconds to wait; the execution keeps running on AMC after that.")
    run.add_argument("-o", "--output", type=Path, help="Write the result to a .csv or .parquet file instead of printing it.")
    run.add_argument("--quiet", action="store_true", help="No progress lines on stderr.")
    run.add_argument("--every", choices=["day", "week", "month"], help="One execution per calendar period of the window (a backfill).")
    run.add_argument("--week-start", choices=["monday", "sunday"], help="First day of a --every week period (default monday).")
    run.add_argument("--concurrency", type=int, help="Backfill executions in flight per instance, 1 to 10 (default 10).")

    check = commands.add_parser("check", help="Check AMC SQL files without running them (for pre-commit hooks and CI).")
    check.add_argument("files", type=Path, nargs="+", metavar="FILE", help="The .sql files; {{name}} placeholders take --param values or typed stand-ins.")
    check.add_argument("--instance", default="sandbox", help="Check against this instance's schema and rules (default: sandbox).")
    check.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="A {{NAME}} value, as for run. Repeatable.")

    history = commands.add_parser("history", help="Executions submitted to AMC, newest first.")
    history.add_argument("--limit", type=int, default=20, help="How many lines (default 20; a backfill is one line).")

    commands.add_parser("workflows", help="Saved workflows: name, wf_ id, versions, last run and status.")

    sandbox = commands.add_parser("sandbox", help="The local AMC emulator.")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="COMMAND")
    serve = sandbox_commands.add_parser("serve", help="Serve the sandbox's AMC API and token endpoint over HTTP.")
    serve.add_argument("--host", default="127.0.0.1", help="Interface to bind (default 127.0.0.1).")
    serve.add_argument("--port", type=int, default=8765, help="Port (default 8765).")
    return parser


def _timeout(raw: str) -> float:
    from .options import parse_timeout

    try:
        return parse_timeout(raw)
    except OptionError as error:
        raise argparse.ArgumentTypeError(error.message) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``amc-magic`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "history":
            return _history(args)
        if args.command == "workflows":
            return _workflows()
        if args.command == "check":
            return _check(args)
        return _serve(args)
    except AmcMagicError as error:
        print(f"amc-magic: {_one_line(error)}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("amc-magic: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _one_line(error: AmcMagicError) -> str:
    """The error's message and what to do on one line, in the command line's words."""
    hint = full_hint(error, COMMAND_LINE)
    if isinstance(error, ParameterError):
        hint = f"Pass it with --param {error.name.split('.')[0]}=VALUE."
    text = " ".join(error.message.split())
    return f"{text.rstrip('.')}. Hint: {' '.join(hint.split())}" if hint else text


def _run(args: argparse.Namespace) -> int:
    from .api import query
    from .session import Session

    output: Path | None = args.output
    if output is not None and output.suffix.lower() not in (".csv", ".parquet"):
        raise OptionError(f"Cannot write {output.name!r}: the output must end in .csv or .parquet.")
    if output is not None and not output.resolve().parent.is_dir():
        raise OptionError(f"Cannot write {str(output)!r}: its directory does not exist.")
    if (args.file is None) == (args.workflow is None):
        raise OptionError("amc-magic run takes a FILE.sql or --workflow NAME (one of them).")
    if args.file is not None and args.instance is None:
        raise OptionError("amc-magic run FILE.sql needs --instance ID (or --instance sandbox).")
    session = Session()
    try:
        if args.workflow is not None:
            sql, params, saved, link = _workflow_run(session, args.workflow, _params(args.param), vars(args))
            args.instance = args.instance or saved.get("instance", "sandbox")
            for option in ("start", "end", "window", "tz", "every"):
                if getattr(args, option) in (None, "UTC") and option in saved:
                    setattr(args, option, saved[option])
        else:
            sql, params, link = _read_sql(args.file), _params(args.param), None
        frame = query(
            sql,
            instance=args.instance,
            start=args.start,
            end=args.end,
            window=args.window,
            tz=args.tz,
            params=params,
            cache=args.cache,
            validate=not args.no_validate,
            timeout=args.timeout,
            progress="none" if args.quiet else "text",
            session=session,
            workflow=link,
            **_backfill_arguments(args),
        )
    finally:
        session.close()
    if output is None:
        import pandas as pd

        with pd.option_context("display.max_rows", 200, "display.max_columns", 50, "display.width", 200):
            print(frame.to_string(index=False))
    else:
        _write(frame, output)
    if output is not None and not args.quiet:
        print(f"Wrote {counted(len(frame), 'row')} to {output}", file=sys.stderr)
    return 0


def _workflow_run(
    session: Any, ref: str, overrides: dict[str, Any], given: dict[str, Any]
) -> tuple[str, dict[str, Any], dict[str, Any], tuple[str, int]]:
    """A saved workflow's template, its values (``--param`` over the saved ones), the saved options
    kept beside the ``given`` ones (a window given replaces the saved one) and its version."""
    from .workflows import resolve_run

    plan = resolve_run(session.store, ref, overrides=overrides)
    return plan.sql_template, plan.namespace, plan.options_beside(given), (plan.workflow_uuid, plan.workflow_version)


def _workflows() -> int:
    from .history import HistoryStore
    from .workflows import workflows_frame

    store = HistoryStore.from_url()
    try:
        frame = workflows_frame(store)
    finally:
        store.close()
    print("No saved workflows yet." if frame.empty else frame.drop(columns=["id"], errors="ignore").to_string(index=False))
    return 0


def _backfill_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """``--every`` and ``--instance a,b`` make a backfill; nothing otherwise."""
    instances = [name.strip() for name in args.instance.split(",")]
    if args.every is None and len(instances) == 1:
        for given, flag in ((args.concurrency, "--concurrency"), (args.week_start, "--week-start")):
            if given is not None:
                raise OptionError(f"{flag} applies to a backfill (--every or --instance a,b); this command runs one execution.")
        return {}
    return {
        "every": args.every,
        "week_start": args.week_start or "monday",
        "instances": instances,
        "concurrency": 10 if args.concurrency is None else args.concurrency,
    }


def _write(frame: Any, output: Path) -> None:
    try:
        if output.suffix.lower() == ".csv":
            frame.to_csv(output, index=False)
        else:
            frame.to_parquet(output, index=False)
    except OSError as exc:
        raise OptionError(
            f"Cannot write {str(output)!r}: {exc.strerror or exc}.",
            hint="The result is in the history: `amc-magic run` with the same arguments answers from the cache.",
        ) from None


def _params(pairs: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip().isidentifier():
            raise OptionError(f"--param {pair!r} is not NAME=VALUE.", hint="For example --param campaign='Spring Sale' or --param ids='[1, 2]'.")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        if isinstance(value, dict):
            value = raw
        if name.strip() in values:
            raise OptionError(f"--param {name.strip()} is given twice.", hint="Give each parameter once; a list is --param 'name=[1, 2]'.")
        values[name.strip()] = value
    return values


def _check(args: argparse.Namespace) -> int:
    """One ``path:line:column: severity: message`` line per problem; 1 if any is an error."""
    from .filecheck import NOMINAL_WINDOW, FileProblem, check_text
    from .session import Session

    values = _params(args.param)
    session = Session()
    found: list[FileProblem] = []
    try:
        for path in args.files:
            try:
                template = _read_sql(path)
            except OptionError as error:
                found.append(FileProblem(str(path), 1, 1, "error", error.message))
                continue
            prepare = lambda sql, namespace: session.prepare(sql, namespace, instance=args.instance, window=NOMINAL_WINDOW, validate="only")  # noqa: E731
            found.extend(check_text(str(path), template, prepare, values))
    finally:
        session.close()
    for problem in found:
        print(problem.format())
    return EXIT_FAILURE if any(p.severity == "error" for p in found) else 0


def _read_sql(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OptionError(f"Cannot read {str(path)!r}: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise OptionError(f"Cannot read {str(path)!r}: it is not UTF-8 text.") from None


def _history(args: argparse.Namespace) -> int:
    from .history import HistoryStore

    if args.limit < 1:
        raise OptionError("--limit must be at least 1.")
    store = HistoryStore.from_url()
    try:
        frame = store.history_frame(args.limit)
    finally:
        store.close()
    if frame.empty:
        print("No executions yet.")
    else:
        print(frame.to_string(index=False))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .sandbox.config import ADVERTISER_ID, INSTANCE_ID, MARKETPLACE_ID
    from .sandbox.serve import listen, run

    listening = listen(args.host, args.port)  # first: a port that is taken fails before the data is made
    address = f"http://{args.host}:{listening.getsockname()[1]}"
    ids = f"instance {INSTANCE_ID}, advertiser {ADVERTISER_ID}, marketplace {MARKETPLACE_ID}"
    print(f"amc-magic sandbox: AMC API at {address} ({ids})", file=sys.stderr)
    print(f"  export AMC_API_URL={address} AMC_TOKEN_URL={address}/auth/o2/token", file=sys.stderr)
    run(listening=listening)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
