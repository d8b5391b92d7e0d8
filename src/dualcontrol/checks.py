"""Production refuses insecure settings (issue 23): Django system checks and the start-up gate.

Two layers, one set of rules:

- ``insecure_settings()`` is a pure function over setting values. ``settings.py`` calls it when
  ``DUALCONTROL_ENV=production`` and stops every command at import, listing every problem —
  DEBUG on, wildcard or empty ALLOWED_HOSTS, SQLite, a default or weak secret key.
- The system checks below apply the same rules to the live settings (a settings module that
  imports ours and changes them afterwards is caught too) and add the two that need more than
  the settings: a demo account in the database (``dualcontrol.E005``) and static files not
  collected (``dualcontrol.E006``). Those two are deployment checks: ``dualcontrol migrate``
  (which runs the ordinary checks) must work on a database that still holds them, while
  ``dualcontrol manage check --deploy``, ``dualcontrol serve`` and the WSGI/ASGI start-up
  (``refuse_to_start_if_insecure``) refuse.

Messages are for operators and name the environment variable to change (as Django's own checks,
in English).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

# Django's own rule for a usable key (django.core.checks.security.base, check --deploy W009)
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5
SECRET_KEY_INSECURE_PREFIX = "django-insecure-"
INSECURE_DEMO_KEY = "insecure-demo-key-never-use-in-production"
SQLITE_ENGINE = "django.db.backends.sqlite3"


def insecure_settings(
    *, debug: bool, allowed_hosts: Sequence[str], engine: str, secret_key: str
) -> list[tuple[str, str]]:
    """Every reason production refuses these settings, as (check id, message) pairs."""
    problems: list[tuple[str, str]] = []
    if debug:
        problems.append(
            (
                "dualcontrol.E001",
                "Production refuses DEBUG: unset DJANGO_DEBUG (or set DJANGO_DEBUG=0). "
                "Debug pages show settings, SQL and source code to anyone.",
            )
        )
    if not allowed_hosts:
        problems.append(
            (
                "dualcontrol.E002",
                "Production needs DJANGO_ALLOWED_HOSTS: the platform's host names, comma-separated "
                "(ALLOWED_HOSTS is empty).",
            )
        )
    elif "*" in allowed_hosts:
        problems.append(
            (
                "dualcontrol.E002",
                "Production refuses the wildcard '*' in DJANGO_ALLOWED_HOSTS (ALLOWED_HOSTS): "
                "list the platform's host names ('.example.gov.cn' for a domain and its subdomains).",
            )
        )
    if engine == SQLITE_ENGINE:
        problems.append(
            (
                "dualcontrol.E003",
                "Production refuses SQLite (DATABASES['default']): set DATABASE_URL to the "
                "PostgreSQL database, e.g. postgres://dualcontrol_app:…@db.internal:5432/dualcontrol.",
            )
        )
    if (
        secret_key == INSECURE_DEMO_KEY
        or len(secret_key) < SECRET_KEY_MIN_LENGTH
        or len(set(secret_key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or secret_key.startswith(SECRET_KEY_INSECURE_PREFIX)
    ):
        problems.append(
            (
                "dualcontrol.E004",
                "Production refuses the default secret key: set DJANGO_SECRET_KEY (SECRET_KEY) to a "
                f"random string of at least {SECRET_KEY_MIN_LENGTH} characters, e.g. "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'.",
            )
        )
    return problems


def _production() -> bool:
    from django.conf import settings

    return bool(getattr(settings, "PRODUCTION", False))


@checks.register(checks.Tags.security)
def check_production_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """dualcontrol.E001–E004: the live settings of a production process."""
    if not _production():
        return []
    from django.conf import settings

    return [
        checks.Error(message, id=check_id)
        for check_id, message in insecure_settings(
            debug=settings.DEBUG,
            allowed_hosts=settings.ALLOWED_HOSTS,
            engine=settings.DATABASES["default"]["ENGINE"],
            secret_key=settings.SECRET_KEY,
        )
    ]


def demo_accounts() -> list[str]:
    """Usernames of demo accounts in the default database (flagged, or named as the demo's).

    A database not migrated yet has no account table, hence no demo account.
    """
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Q

    from dualcontrol.demo.builder import DEMO_USERS

    user_model = get_user_model()
    if user_model._meta.db_table not in connection.introspection.table_names():
        return []
    query = Q(username__in=DEMO_USERS)
    if any(f.name == "is_demo" for f in user_model._meta.get_fields()):
        query |= Q(is_demo=True)
    return sorted(user_model.objects.filter(query).values_list("username", flat=True))


@checks.register(checks.Tags.security, deploy=True)
def check_no_demo_accounts(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """dualcontrol.E005: a production database holds no demo account (demo12345 is public)."""
    if not _production():
        return []
    names = demo_accounts()
    if not names:
        return []
    shown = ", ".join(names[:10]) + (f" … ({len(names)} in all)" if len(names) > 10 else "")
    return [
        checks.Error(
            f"Production refuses a database with demo accounts: {shown}. Their password is "
            "published (demo12345).",
            hint="Delete these users (admin → 用户), or start from an empty database: the demo "
            "province is synthetic data and never belongs in production.",
            id="dualcontrol.E005",
        )
    ]


@checks.register(checks.Tags.staticfiles, deploy=True)
def check_static_files_collected(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """dualcontrol.E006: every static file is collected, with its hashed name in the manifest.

    A page naming a file the manifest lacks answers 500: the manifest missing (never collected)
    or stale (an upgrade brought new files and ``collectstatic`` was not run again).
    """
    if not _production():
        return []
    from django.apps import apps
    from django.conf import settings
    from django.contrib.staticfiles.finders import get_finders
    from django.contrib.staticfiles.storage import ManifestFilesMixin
    from django.core.files.storage import storages

    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin):
        return []
    hint = "Run: dualcontrol manage collectstatic --noinput (after every upgrade)."
    if not storage.exists(storage.manifest_name):
        return [
            checks.Error(
                f"Static files are not collected: no {storage.manifest_name} in STATIC_ROOT "
                f"({settings.STATIC_ROOT}); pages would answer 500.",
                hint=hint,
                id="dualcontrol.E006",
            )
        ]
    collected, _ = storage.load_manifest()
    ignore = apps.get_app_config("staticfiles").ignore_patterns
    missing = sorted(
        {path for finder in get_finders() for path, _ in finder.list(ignore)} - set(collected)
    )
    if not missing:
        return []
    shown = ", ".join(missing[:5]) + (f" … ({len(missing)} in all)" if len(missing) > 5 else "")
    return [
        checks.Error(
            f"Static files are collected from an older version: {shown} not in "
            f"{storage.manifest_name} ({settings.STATIC_ROOT}); pages using them would answer 500.",
            hint=hint,
            id="dualcontrol.E006",
        )
    ]


def refuse_to_start_if_insecure() -> None:
    """In production, run every check (deployment ones included) and refuse to start on an error.

    Called by the WSGI entry point (gunicorn) and ``dualcontrol serve``; warnings are logged.
    (Not by the ASGI one: an ASGI server imports the application inside its event loop, where
    the database check could not run; production serves through WSGI.)
    """
    if not _production():
        return
    import logging

    from django.core.checks import run_checks

    messages = [m for m in run_checks(include_deployment_checks=True) if not m.is_silenced()]
    serious = [m for m in messages if m.is_serious()]
    log = logging.getLogger("dualcontrol.checks")
    for m in messages:
        if not m.is_serious():
            log.warning("%s", m)
    if serious:
        raise ImproperlyConfigured(
            "Production refuses to start:\n"
            + "\n".join(f"- {m.id}: {m.msg}" + (f"\n  {m.hint}" if m.hint else "") for m in serious)
        )
