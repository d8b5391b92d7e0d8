"""`dualcontrol` console command: one entry point for every batch job.

Command groups live in :mod:`dualcontrol.commands`; each module registers its own
sub-commands (see that package's docstring), so adding a group never edits this file.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

from dualcontrol import __version__


class CommandError(Exception):
    """A batch job failed with a message meant for the operator (printed, exit code 2)."""


def setup_django() -> None:
    """Configure Django for commands that touch the database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dualcontrol.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.utils import translation

    # batch jobs write official documents and messages in the platform's default language
    translation.activate(settings.LANGUAGE_CODE)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dualcontrol",
        description="节能减排目标责任管理平台 — batch jobs for officers and operators.",
    )
    parser.add_argument("--version", action="version", version=f"dualcontrol {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    import dualcontrol.commands as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The sub-command parsers of ``parser`` by name (empty when it has none)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a closed output pipe (``dualcontrol … | head``) ends it quietly."""
    try:
        try:
            return _run(list(sys.argv[1:] if argv is None else argv))
        finally:
            # buffered output meets a closed pipe here, not in a traceback at interpreter exit
            sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
        return 141  # 128 + SIGPIPE: the status of a program the closed pipe would have killed
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130


def _discard_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush finds no broken pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (e.g. captured in tests)
        pass


def _run(argv: list[str]) -> int:
    parser = build_parser()
    pass_through = subcommands(parser).get(argv[0]) if argv else None
    if pass_through is not None and pass_through.get_default("pass_through"):
        # the rest of the line belongs to another parser (``manage`` → Django), options first
        # included: argparse's REMAINDER cannot start with an option such as ``--help``
        args = parser.parse_args(argv[:1])
        args.args = argv[1:]
    else:
        args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 0
    try:
        return int(func(args) or 0)
    except CommandError as exc:
        print(f"dualcontrol {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    # run the package's module (not this __main__ copy) so CommandError is one class
    from dualcontrol.cli import main as package_main

    sys.exit(package_main())
