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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
