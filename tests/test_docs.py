"""The README documents every magic option, line magic, configuration trait, variable and CLI command."""

import argparse
from pathlib import Path

import pytest

from amc_magic.cli import build_parser
from amc_magic.line_commands import LINE_COMMANDS
from amc_magic.magics import AMCMagic
from amc_magic.options import OPTION_HELP

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _subcommands(parser: argparse.ArgumentParser, prefix: str = "amc-magic") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(f"{prefix} {name}")
                found.extend(_subcommands(sub, f"{prefix} {name}"))
    return found


@pytest.mark.parametrize("option", sorted(OPTION_HELP))
def test_every_magic_option_is_documented(option):
    assert f"`{option}=" in README


@pytest.mark.parametrize("command", sorted(LINE_COMMANDS))
def test_every_line_magic_is_documented(command):
    assert f"`%amc {command}" in README


@pytest.mark.parametrize("trait", sorted(AMCMagic.class_own_traits(config=True)))
def test_every_configuration_trait_is_documented(trait):
    assert f"`AMCMagic.{trait}`" in README


@pytest.mark.parametrize(
    "variable", ["AMC_CLIENT_ID", "AMC_CLIENT_SECRET", "AMC_REFRESH_TOKEN", "AMC_API_URL", "AMC_TOKEN_URL", "AMC_MAGIC_DB_URL"]
)
def test_every_environment_variable_is_documented(variable):
    assert f"`{variable}`" in README


@pytest.mark.parametrize("command", _subcommands(build_parser()))
def test_every_cli_command_is_documented(command):
    assert f"`{command}" in README


def test_every_cli_option_is_documented():
    parser = build_parser()
    missing = []
    for command in ("run", "check", "history"):
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
        for action in sub._actions:
            flags = [f for f in action.option_strings if f.startswith("--") and f != "--help"]
            if flags and not any(flag in README for flag in flags):
                missing.append(flags[0])
    assert missing == []


def test_readme_names_the_test_command():
    assert "python -m pytest" in README
