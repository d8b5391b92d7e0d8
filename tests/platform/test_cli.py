"""The ``dualcontrol`` command line: every sub-command's ``--help`` works, ``manage --help``
reaches Django, and output piped into a reader that has gone (``| head``) ends quietly (issue 14)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dualcontrol.cli import build_parser, main, subcommands

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "tests/data/plans/qinghai_2016-2020_energy-saving_emission-reduction_plan.txt"


def _command_paths(parser=None, prefix=()) -> list[tuple[str, ...]]:
    """Every registered command and sub-command, from the parser itself (new ones included)."""
    paths = []
    for name, sub in subcommands(parser or build_parser()).items():
        path = (*prefix, name)
        paths.append(path)
        paths.extend(_command_paths(sub, path))
    return paths


COMMANDS = _command_paths()


def test_the_commands_are_found():
    for expected in [("manage",), ("plans", "parse"), ("hj212", "check"), ("energy",)]:
        assert expected in COMMANDS
    assert len(COMMANDS) > 20


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_every_command_has_a_working_help(path, capsys):
    try:
        code = main([*path, "--help"])
    except SystemExit as exc:  # argparse's own --help exits
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "usage: " in out or "Available subcommands" in out, out[:300]
    assert "Traceback" not in err


def test_manage_help_lists_djangos_commands(capsys):
    assert main(["manage", "--help"]) == 0
    out = capsys.readouterr().out
    assert "migrate" in out and "dualcontrol manage help <subcommand>" in out


def test_manage_passes_options_in_order(capsys):
    assert main(["manage", "check", "--deploy", "--fail-level", "CRITICAL"]) == 0
    out, err = capsys.readouterr()
    assert "System check identified" in out + err


def test_unknown_options_are_still_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["plans", "parse", str(PLAN), "--no-such-option"])
    assert exc.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def _run_into_closed_pipe(*args: str) -> subprocess.CompletedProcess[bytes]:
    """Run ``dualcontrol ARGS`` with stdout a pipe whose reader has already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write now fails with EPIPE, as after `head` has exited
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DUALCONTROL_ENV"] = "test"
    try:
        return subprocess.run(
            [sys.executable, "-m", "dualcontrol.cli", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=env,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args",
    [
        ("plans", "parse", str(PLAN)),
        ("plans", "parse", str(PLAN), "--format", "text"),
        ("--help",),
        ("hj212", "--help"),
    ],
    ids=["plans-parse-json", "plans-parse-text", "help", "hj212-help"],
)
def test_a_closed_pipe_ends_quietly(args):
    result = _run_into_closed_pipe(*args)
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert "Exception ignored" not in stderr, stderr
    assert result.returncode in (0, 141)  # argparse's help ignores a failed write itself


def test_a_large_output_read_to_the_end_is_complete():
    result = subprocess.run(
        [sys.executable, "-m", "dualcontrol.cli", "plans", "parse", str(PLAN)],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    assert result.stdout.rstrip().endswith(b"]")
    assert result.stderr == b""
