"""Production mode refuses each insecure setting (issue 23): at settings import (every problem
listed), as system checks on the live settings, demo accounts and uncollected static files at
start-up — while ``migrate`` still runs — and, on PostgreSQL, gunicorn serves pages and static
files with the security headers, and ``check --deploy`` is clean."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.checks import registry
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings

from dualcontrol import checks
from dualcontrol.accounts.models import Role
from tests.factories import user

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GOOD_KEY = "k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN"
HOST = "energy.example.gov.cn"
FAKE_PG = "postgres://app@db.invalid:5432/dualcontrol"  # never connected to by a settings import


def _env(**env: str) -> dict[str, str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DUALCONTROL_"))}
    full.pop("DATABASE_URL", None)
    full.update(env)
    return full


def _production(**over: str) -> dict[str, str]:
    env = {
        "DUALCONTROL_ENV": "production",
        "DJANGO_SECRET_KEY": GOOD_KEY,
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DATABASE_URL": FAKE_PG,
    }
    env.update(over)
    return _env(**{k: v for k, v in env.items() if v is not None})


def _import_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import dualcontrol.settings"],
        env=env,
        capture_output=True,
        text=True,
    )


# --- settings import: each refusal, by name -------------------------------------------------


def test_production_settings_pass_when_secure():
    r = _import_settings(_production())
    assert r.returncode == 0, r.stderr
    # a leading-dot domain (the domain and its subdomains) is not a wildcard
    r = _import_settings(_production(DJANGO_ALLOWED_HOSTS=".example.gov.cn,energy.example.gov.cn"))
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize(
    ("over", "check_id", "names"),
    [
        ({"DJANGO_DEBUG": "1"}, "dualcontrol.E001", "DJANGO_DEBUG"),
        ({"DJANGO_ALLOWED_HOSTS": "*"}, "dualcontrol.E002", "DJANGO_ALLOWED_HOSTS"),
        ({"DJANGO_ALLOWED_HOSTS": f"{HOST},*"}, "dualcontrol.E002", "wildcard"),
        ({"DJANGO_ALLOWED_HOSTS": " , "}, "dualcontrol.E002", "DJANGO_ALLOWED_HOSTS"),
        ({"DATABASE_URL": "sqlite:////tmp/x.sqlite3"}, "dualcontrol.E003", "SQLite"),
        ({"DATABASE_URL": ""}, "dualcontrol.E003", "DATABASE_URL"),  # the default file
        ({"DJANGO_SECRET_KEY": ""}, "dualcontrol.E004", "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "x" * 60}, "dualcontrol.E004", "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "a-short-random-key-0123456789"}, "dualcontrol.E004", "50"),
        ({"DJANGO_SECRET_KEY": "django-insecure-" + GOOD_KEY}, "dualcontrol.E004", "secret key"),
    ],
)
def test_production_refuses_each_insecure_setting(over, check_id, names):
    env = _production(**over)
    if over.get("DJANGO_SECRET_KEY") == "":
        env.pop("DJANGO_SECRET_KEY")  # unset: the built-in demo key
    if over.get("DATABASE_URL") == "":
        env.pop("DATABASE_URL")
    r = _import_settings(env)
    assert r.returncode != 0
    assert "ImproperlyConfigured" in r.stderr and check_id in r.stderr and names in r.stderr
    assert r.stderr.count("dualcontrol.E00") == 1  # only the problem there is


def test_production_lists_every_problem_at_once():
    r = _import_settings(
        _production(DJANGO_DEBUG="1", DJANGO_ALLOWED_HOSTS="*", DATABASE_URL="sqlite:///x")
        | {"DJANGO_SECRET_KEY": "short"}
    )
    assert r.returncode != 0
    for check_id in ("E001", "E002", "E003", "E004"):
        assert f"dualcontrol.{check_id}" in r.stderr
    # the message the older test looked for is kept
    assert "refuses the default secret key" in r.stderr


def test_demo_and_test_modes_keep_their_defaults():
    for mode in ("demo", "test"):
        r = _import_settings(_env(DUALCONTROL_ENV=mode))
        assert r.returncode == 0, r.stderr


# --- system checks on the live settings ---------------------------------------------------


def _ids(messages) -> list[str]:
    return sorted(m.id for m in messages)


@override_settings(PRODUCTION=True, DEBUG=False, ALLOWED_HOSTS=[HOST], SECRET_KEY=GOOD_KEY)
def test_setting_checks_follow_the_live_settings():
    engine = connection.settings_dict["ENGINE"]
    base = ["dualcontrol.E003"] if engine.endswith("sqlite3") else []
    assert _ids(checks.check_production_settings()) == base
    with override_settings(DEBUG=True):
        assert _ids(checks.check_production_settings()) == sorted(["dualcontrol.E001", *base])
    with override_settings(ALLOWED_HOSTS=["*"]):
        assert _ids(checks.check_production_settings()) == sorted(["dualcontrol.E002", *base])
    with override_settings(SECRET_KEY="insecure-demo-key-never-use-in-production"):
        assert _ids(checks.check_production_settings()) == sorted(["dualcontrol.E004", *base])
    with override_settings(PRODUCTION=False, DEBUG=True, ALLOWED_HOSTS=["*"]):
        assert checks.check_production_settings() == []


@pytest.mark.django_db
def test_demo_accounts_are_refused_in_production():
    user("ent1", Role.ENTERPRISE)
    with override_settings(PRODUCTION=True):
        assert checks.check_no_demo_accounts() == []
        user("demo-province", Role.PROVINCE_ADMIN)  # a demo name, whatever its flag
        user("trial", Role.CITY_OFFICER, is_demo=True, is_active=False)  # flagged, even inactive
        [error] = checks.check_no_demo_accounts()
        assert error.id == "dualcontrol.E005" and error.is_serious()
        assert "demo-province" in error.msg and "trial" in error.msg and "ent1" not in error.msg
    # demo and test modes are where demo accounts belong
    assert checks.check_no_demo_accounts() == []


def test_database_checks_run_at_start_up_not_at_migrate():
    ordinary = registry.registry.get_checks(include_deployment_checks=False)
    deploy = registry.registry.get_checks(include_deployment_checks=True)
    # migrate runs the ordinary checks: it must work on a database that holds demo accounts
    assert checks.check_no_demo_accounts not in ordinary
    assert checks.check_static_files_collected not in ordinary
    assert checks.check_no_demo_accounts in deploy
    assert checks.check_static_files_collected in deploy
    assert checks.check_production_settings in ordinary


def test_static_files_must_be_collected(tmp_path):
    manifest_storage = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(PRODUCTION=True, STATIC_ROOT=tmp_path, STORAGES=manifest_storage):
        [error] = checks.check_static_files_collected()
        assert error.id == "dualcontrol.E006" and "collectstatic" in error.hint
        # the manifest collectstatic writes: every file found, under its hashed name
        from django.contrib.staticfiles.finders import get_finders

        paths = {p: p for finder in get_finders() for p, _ in finder.list(["CVS", ".*", "*~"])}
        assert "js/platform.js" in paths and "vendor/echarts.min.js" in paths
        manifest = tmp_path / "staticfiles.json"
        manifest.write_text(json.dumps({"paths": paths, "version": "1.1", "hash": ""}))
        assert checks.check_static_files_collected() == []
        # an upgrade brought a file collectstatic has not seen: refused, the file named
        del paths["js/platform.js"]
        manifest.write_text(json.dumps({"paths": paths, "version": "1.1", "hash": ""}))
        [error] = checks.check_static_files_collected()
        assert error.id == "dualcontrol.E006" and "js/platform.js" in error.msg


@pytest.mark.django_db
@override_settings(PRODUCTION=True, DEBUG=False, ALLOWED_HOSTS=[HOST], SECRET_KEY=GOOD_KEY)
def test_start_up_gate_lists_the_errors():
    user("demo-city", Role.CITY_OFFICER, is_demo=True)
    with pytest.raises(ImproperlyConfigured, match="Production refuses to start") as exc:
        checks.refuse_to_start_if_insecure()
    assert "dualcontrol.E005" in str(exc.value) and "demo-city" in str(exc.value)
    with override_settings(PRODUCTION=False):
        checks.refuse_to_start_if_insecure()  # demo/test: nothing to refuse


@pytest.mark.django_db
@override_settings(PRODUCTION=True, DEBUG=False, ALLOWED_HOSTS=[HOST], SECRET_KEY=GOOD_KEY)
def test_serve_refuses_before_serving(capsys, monkeypatch):
    from dualcontrol.cli import main

    served = []
    monkeypatch.setattr("django.core.management.call_command", lambda *a, **k: served.append(a))
    user("demo-enterprise", Role.ENTERPRISE, is_demo=True)
    assert main(["serve", "127.0.0.1:0"]) == 2
    err = capsys.readouterr().err
    assert "dualcontrol serve: error: Production refuses to start" in err
    assert "dualcontrol.E005" in err and served == []


def test_wsgi_entry_point_runs_the_gate():
    source = (ROOT / "src/dualcontrol/wsgi.py").read_text()
    assert "refuse_to_start_if_insecure()" in source


# --- headers in every mode ----------------------------------------------------------------


@pytest.mark.django_db
def test_security_headers_in_every_mode(client):
    r = client.get("/accounts/login/")
    assert r.status_code == 200
    policy = r["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"].startswith("'self'")
    assert "unsafe-inline" not in directives["script-src"]
    assert "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "http" not in policy  # no external origin anywhere
    assert r["X-Frame-Options"] == "DENY"
    assert r["Referrer-Policy"] == "same-origin"
    assert r["X-Content-Type-Options"] == "nosniff"


def test_no_template_has_an_inline_handler_or_an_inline_script_without_nonce():
    problems = []
    for path in sorted((ROOT / "src/dualcontrol").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"<script\b[^>]*>", text):
            tag = m.group(0)
            if "src=" in tag or 'type="application/json"' in tag:
                continue
            if 'nonce="{{ request.csp_nonce }}"' not in tag:
                problems.append(f"{path.relative_to(ROOT)}: {tag}")
        for m in re.finditer(r"\son[a-z]+\s*=|\shx-on[:-]", text):
            problems.append(f"{path.relative_to(ROOT)}: inline handler {m.group(0).strip()}")
    assert problems == []


# --- PostgreSQL: the real process --------------------------------------------------------

needs_pg = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="production refuses SQLite: needs DATABASE_URL pointing at PostgreSQL",
)


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _prod_env(data_dir: Path, **over: str) -> dict[str, str]:
    return _production(
        DATABASE_URL=_database_url(),
        DUALCONTROL_DATA_DIR=str(data_dir),
        DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
        **over,
    )


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "dualcontrol"), *args], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    """A production data directory whose STATIC_ROOT holds the collected static files."""
    if connection.vendor != "postgresql":
        pytest.skip("production refuses SQLite: needs DATABASE_URL pointing at PostgreSQL")
    data = tmp_path_factory.mktemp("production")
    r = _cli(_production(DUALCONTROL_DATA_DIR=str(data)), "manage", "collectstatic", "--noinput")
    assert r.returncode == 0, r.stderr
    assert (data / "static/staticfiles.json").is_file()
    return data


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# gunicorn ≥ 24 opens a control socket at one fixed path per user: not for a throw-away server
NO_CONTROL_SOCKET = (
    ["--no-control-socket"]
    if hasattr(pytest.importorskip("gunicorn.config"), "ControlSocketDisable")
    else []
)


class Gunicorn:
    def __init__(self, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--timeout",
                "60",
                *NO_CONTROL_SOCKET,
                "dualcontrol.wsgi:application",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_ready(self, seconds: float = 60) -> bool:
        """True once a worker answers; False when the master exits first."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                self.get("/accounts/login/")
                return True
            except OSError:
                time.sleep(0.3)
        raise TimeoutError("gunicorn neither answered nor exited")

    def get(self, path: str, **headers: str) -> tuple[http.client.HTTPResponse, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path, headers={"Host": HOST, **headers})
            r = conn.getresponse()
            return r, r.read()
        finally:
            conn.close()

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        out, _ = self.proc.communicate(timeout=30)
        return out


@needs_pg
@pytest.mark.django_db
def test_gunicorn_serves_pages_and_static_files_with_security_headers(collected):
    server = Gunicorn(_prod_env(collected))
    try:
        assert server.wait_ready(), server.stop()
        https = {"X-Forwarded-Proto": "https"}  # set by the TLS-terminating proxy
        r, body = server.get("/accounts/login/", **https)
        assert r.status == 200
        assert "default-src 'self'" in r.headers["Content-Security-Policy"]
        assert r.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["Referrer-Policy"] == "same-origin"
        cookies = r.headers.get_all("Set-Cookie") or []
        csrf = next(c for c in cookies if c.startswith("csrftoken="))
        assert "Secure" in csrf and "HttpOnly" in csrf
        page = body.decode()
        # the page links the hashed names of the manifest; they are served, cached for good
        css = re.search(r'href="(/static/css/platform\.[0-9a-f]{12}\.css)"', page)
        assert css, page[:800]
        r, body = server.get(css.group(1), **https)
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/css")
        assert "immutable" in r.headers["Cache-Control"] and b"--blue" in body
        assert r.headers["Strict-Transport-Security"]
        # the unhashed name too (the brief's check), compressed on request
        r, body = server.get("/static/vendor/echarts.min.js", **https)
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/javascript")
        assert len(body) > 500_000 and b"echarts" in body[:2000]
        r, gz = server.get("/static/vendor/echarts.min.js", **https, **{"Accept-Encoding": "gzip"})
        assert r.status == 200 and r.headers["Content-Encoding"] == "gzip" and len(gz) < len(body)
        r, _ = server.get("/static/vendor/no-such-file.js", **https)
        assert r.status == 404
        # plain HTTP is sent to HTTPS
        r, _ = server.get("/accounts/login/")
        assert r.status == 301 and r.headers["Location"] == f"https://{HOST}/accounts/login/"
    finally:
        server.stop()


@needs_pg
@pytest.mark.django_db(transaction=True)
def test_gunicorn_refuses_to_start_with_a_demo_account_but_migrate_runs(collected):
    user("demo-province", Role.PROVINCE_ADMIN, is_demo=True)  # committed: the process sees it
    env = _prod_env(collected)
    r = _cli(env, "migrate")
    assert r.returncode == 0, r.stderr
    r = _cli(env, "manage", "check", "--deploy")
    assert r.returncode != 0 and "dualcontrol.E005" in r.stderr and "demo-province" in r.stderr
    server = Gunicorn(env)
    try:
        assert server.wait_ready() is False
    finally:
        out = server.stop()
    assert server.proc.returncode != 0
    assert "Production refuses to start" in out and "dualcontrol.E005" in out, out[-3000:]


@needs_pg
@pytest.mark.django_db
def test_check_deploy_is_clean_in_production(collected):
    r = _cli(_prod_env(collected), "manage", "check", "--deploy", "--fail-level", "WARNING")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no issues" in r.stdout, r.stdout


def _documented_sql(header: str) -> str:
    """The ```sql block of docs/operations.md that starts with ``header``."""
    text = (ROOT / "docs/operations.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", text, re.S)
    [block] = [b for b in blocks if b.startswith(header)]
    return block


@needs_pg
@pytest.mark.django_db(transaction=True)
def test_documented_database_roles_have_least_privilege():
    """The operator guide's grants.sql, run on the migrated schema: what each role may do."""
    import secrets

    import psycopg

    from dualcontrol.commands.backup import pg_params

    suffix = secrets.token_hex(4)
    app, report = f"dc_test_app_{suffix}", f"dc_test_report_{suffix}"
    password = secrets.token_urlsafe(16)
    grants = (
        _documented_sql("-- grants.sql")
        .replace("dualcontrol_app", app)
        .replace("dualcontrol_report", report)
    )
    params = pg_params(connection.settings_dict)
    admin = psycopg.connect(**params, autocommit=True)
    try:
        for role in (app, report):
            admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        admin.execute(grants)
        admin.execute(grants)  # repeatable: run after every migrate

        def can(role: str, table: str, privilege: str) -> bool:
            return admin.execute(
                "SELECT has_table_privilege(%s, %s, %s)", (role, table, privilege)
            ).fetchone()[0]

        for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            assert can(app, "reporting_energyreport", privilege)
            assert can(report, "reporting_energyreport", privilege) is (privilege == "SELECT")
        # the audit log: append-only for the application
        for table in ("audit_auditentry", "audit_auditcheckpoint"):
            assert can(app, table, "SELECT") and can(app, table, "INSERT")
            assert not can(app, table, "UPDATE") and not can(app, table, "DELETE")
            assert not can(app, table, "TRUNCATE")
        assert can(app, "audit_auditchainhead", "UPDATE")
        assert not can(app, "audit_auditchainhead", "DELETE")
        # the reporting role reads no secret
        for table in ("django_session", "accounts_apitoken", "otp_totp_totpdevice"):
            assert not can(report, table, "SELECT"), table
        column = "SELECT has_column_privilege(%s, 'accounts_user', %s, 'SELECT')"
        assert admin.execute(column, (report, "username")).fetchone()[0]
        assert not admin.execute(column, (report, "password")).fetchone()[0]

        # the application works as that role: a command that writes an audit entry
        s = connection.settings_dict
        url = f"postgres://{app}:{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        r = _cli(_env(DUALCONTROL_ENV="test", DATABASE_URL=url), "audit", "verify")
        assert r.returncode == 0, r.stdout + r.stderr
        with (
            psycopg.connect(**{**params, "user": app, "password": password}) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute("UPDATE audit_auditentry SET note = 'forged'")
    finally:
        for role in (app, report):
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")
        admin.close()
