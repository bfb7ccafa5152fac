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

from .errors import AmcMagicError, OptionError, ParameterError

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
    run.add_argument("file", type=Path, help="The .sql file ({{name}} placeholders take --param values).")
    run.add_argument("--instance", required=True, help="Instance id, or `sandbox` for the in-process emulator.")
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

    check = commands.add_parser("check", help="Check AMC SQL files without running them (for pre-commit hooks and CI).")
    check.add_argument("files", type=Path, nargs="+", metavar="FILE", help="The .sql files; {{name}} placeholders take --param values or typed stand-ins.")
    check.add_argument("--instance", default="sandbox", help="Check against this instance's schema and rules (default: sandbox).")
    check.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="A {{NAME}} value, as for run. Repeatable.")

    history = commands.add_parser("history", help="Executions submitted to AMC, newest first.")
    history.add_argument("--limit", type=int, default=20, help="How many (default 20).")

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
    """The error's message and hint on one line, with the notebook's words put in the CLI's."""
    hint = error.hint
    if isinstance(error, ParameterError):
        hint = f"Pass it with --param {error.name.split('.')[0]}=VALUE."
    elif hint:
        hint = hint.replace("validate=false", "--no-validate").replace("validate=only", "the magic's validate=only")
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
    sql = _read_sql(args.file)
    session = Session()
    try:
        frame = query(
            sql,
            instance=args.instance,
            start=args.start,
            end=args.end,
            window=args.window,
            tz=args.tz,
            params=_params(args.param),
            cache=args.cache,
            validate=not args.no_validate,
            timeout=args.timeout,
            progress="none" if args.quiet else "text",
            session=session,
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
        print(f"Wrote {len(frame):,} rows to {output}", file=sys.stderr)
    return 0


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
    from .sandbox.serve import run

    print(f"amc-magic sandbox: AMC API at http://{args.host}:{args.port} (instance amcsandbox01, advertiser ENTITYSANDBOX, marketplace ATVPDKIKX0DER)", file=sys.stderr)
    print(f"  export AMC_API_URL=http://{args.host}:{args.port} AMC_TOKEN_URL=http://{args.host}:{args.port}/auth/o2/token", file=sys.stderr)
    run(host=args.host, port=args.port)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
