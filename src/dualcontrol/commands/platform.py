"""Platform jobs: ``demo``, ``serve``, ``migrate``, ``manage`` (any Django management command)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
from typing import Any

from dualcontrol.cli import CommandError, setup_django


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "demo", help="migrate and build the demo province (demo mode only); optionally serve it"
    )
    p.add_argument(
        "--serve",
        metavar="HOST:PORT",
        nargs="?",
        const="127.0.0.1:8000",
        help="then serve the platform",
    )
    p.set_defaults(func=demo)

    p = subparsers.add_parser(
        "serve",
        help="serve the platform (development server; use a WSGI/ASGI server in production)",
    )
    p.add_argument("addr", nargs="?", default="127.0.0.1:8000", metavar="HOST:PORT")
    p.set_defaults(func=serve)

    p = subparsers.add_parser("migrate", help="apply database migrations")
    p.set_defaults(func=migrate)

    p = subparsers.add_parser(
        "manage",
        help="run a Django management command (dualcontrol manage help: the list)",
        add_help=False,
    )
    p.add_argument("args", nargs=argparse.REMAINDER)
    # the whole rest of the line goes to Django, ``--help`` included (see cli.main)
    p.set_defaults(func=manage, pass_through=True)


def _data_dirs() -> None:
    from django.conf import settings

    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    settings.MEDIA_ROOT.mkdir(parents=True, exist_ok=True)


def migrate(args: argparse.Namespace) -> int:
    setup_django()
    _data_dirs()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)
    return 0


def demo(args: argparse.Namespace) -> int:
    setup_django()
    _data_dirs()
    from django.conf import settings
    from django.core.management import call_command

    if not settings.DEMO_MODE:
        raise CommandError(
            "the demo province is only built in demo mode (DUALCONTROL_ENV=demo), never in production"
        )
    import time

    started = time.perf_counter()

    def step(message: str) -> None:
        print(f"demo [{time.perf_counter() - started:5.0f} s] {message} …", flush=True)

    step("migrating the database")
    call_command("migrate", interactive=False, verbosity=0)
    from dualcontrol.demo.builder import DEMO_PASSWORD, DemoRefused, build, demo_usernames

    try:
        summary = build(progress=step)
    except DemoRefused as exc:
        print(f"demo: {exc}; keeping the existing data")
    else:
        print(
            f"demo province built: {summary.divisions} divisions, {summary.departments} departments, "
            f"{summary.entities} synthetic key units, {summary.reports} monthly reports ({summary.lines} lines)"
        )
    print(f"database: {settings.DATABASES['default']['NAME']}")
    usernames = demo_usernames()
    print("demo logins (password " + DEMO_PASSWORD + "): " + ", ".join(usernames))
    from dualcontrol.commands.demo_otp import HINT, demo_lines

    lines = demo_lines(usernames)
    if lines:
        print("demo second factor (TOTP, RFC 6238; demo accounts only):")
        print("\n".join(lines))
        print(HINT)
    if args.serve:
        return serve(argparse.Namespace(addr=args.serve))
    return 0


def serve(args: argparse.Namespace) -> int:
    setup_django()
    _data_dirs()
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import call_command

    from dualcontrol.checks import refuse_to_start_if_insecure

    try:  # production: the WSGI start-up's gate (demo accounts, static files…), said plainly
        refuse_to_start_if_insecure()
    except ImproperlyConfigured as exc:
        raise CommandError(str(exc)) from exc

    # the demo runs the background jobs (mail outbox, page jobs) beside the development server;
    # production runs `dualcontrol worker` as its own service (docs/operations.md)
    worker = _demo_worker() if settings.ENV == "demo" else None
    print(f"serving http://{args.addr}/  (Ctrl-C to stop)", flush=True)
    # Ctrl-C (SIGINT) and SIGTERM are the ordinary way to stop the server: exit 0, so that
    # `make demo` ends without "make: *** … Error" (issue 14)
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        call_command("runserver", args.addr, use_reloader=False)
    except KeyboardInterrupt:
        pass
    except SystemExit as exc:  # runserver's own answer to Ctrl-C is sys.exit(0)
        if exc.code not in (0, None):
            raise
    finally:
        signal.signal(signal.SIGTERM, previous)
        if worker is not None:
            _stop_worker(worker)
    print("stopped", flush=True)
    return 0


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the cluster's main process only: it stops its workers after the running jobs
    (a signal to all of its processes at once leaves it waiting for them)."""
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):  # a hung job or a second Ctrl-C
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def _stop(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def _demo_worker() -> subprocess.Popen[bytes]:
    import sys

    # its own process group: Ctrl-C in the terminal reaches the server only, which then stops
    # the worker in order (:func:`_stop_worker`)
    worker = subprocess.Popen(
        [sys.executable, "-m", "dualcontrol.cli", "worker"], start_new_session=True
    )
    print(f"background jobs: dualcontrol worker (pid {worker.pid})", flush=True)
    return worker


def manage(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["dualcontrol manage", *args.args])
    return 0
