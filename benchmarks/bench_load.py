"""Page latency under load at 1x and 10x the demo province, served as production serves it (issue 18).

For each data size (``--scale``, multiples of the demo's ``synthetic.units``):

1. a PostgreSQL database ``dualcontrol_load_<N>x`` on 127.0.0.1:5432 with the demo province built
   with N times the units (built once, reused later; ``--rebuild`` builds it again). A reused
   database is migrated and its roll-ups refreshed (``dualcontrol rollups refresh``, when the
   command exists).
2. gunicorn ``dualcontrol.wsgi:application`` with the flags of docs/operations.md (5 sync workers,
   ``--timeout 120``, max-requests) on a free loopback port; static files collected and served by
   WhiteNoise. The settings are ``DUALCONTROL_ENV=demo`` (production refuses the demo accounts,
   ``dualcontrol.E005``) with production's overridable settings (DEBUG off, own secret key,
   ALLOWED_HOSTS) and production's persistent database connections; every setting that still
   differs from production is printed.
3. log in as the province officer (password, then the TOTP code of ``dualcontrol demo-otp``) and
   take an API token (``POST /api/auth/token``, with the next code).
4. per target: warm-up, then an open-loop run (``--rate`` requests/s, Poisson arrivals, latency
   from the scheduled time) and a closed-loop run (``--users`` users without think time), each
   ``--seconds`` long; p50/p95/p99, throughput, errors, and the rows PostgreSQL read per request
   (``pg_stat_database``: tup_returned + tup_fetched of the database over warm-up and both runs,
   divided by their requests).

Verdict (goal of issue 18): at the largest scale every target answers with p95 < 150 ms in the
open loop, and no target's p50 at the largest scale is more than twice its p50 at the smallest.

Options on the command line (``python -m benchmarks.bench_load --scale 1 --seconds 10``) or,
since ``python -m benchmarks load`` passes none, in the environment: LOAD_SCALES, LOAD_RATE,
LOAD_USERS, LOAD_SECONDS, LOAD_TARGETS, LOAD_REBUILD=1, LOAD_ARRIVALS (poisson|fixed),
LOAD_DATA_DIR, LOAD_PG_URL, LOAD_CONN_MAX_AGE. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import math
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from benchmarks import loadgen

# --- the goal of issue 18 (performance targets of the platform, not domain rules) -------------
GOAL_P95_MS = 150.0  # every page at the largest data size, open loop at GOAL_RATE
GOAL_RATE = 10.0  # requests per second per page
GOAL_GROWTH = 2.0  # p50 at the largest size at most this multiple of p50 at the smallest

HOST = "127.0.0.1"  # loopback only
DB_PREFIX = "dualcontrol_load_"  # the only databases this benchmark creates, drops or writes
OFFICER = "demo-province"  # the province officer among dualcontrol.demo.builder.DEMO_USERS
INTENSITY = "energy_intensity_reduction"  # the target the drill-down opens (targets.Indicator)

# gunicorn as docs/operations.md §2.5 runs it (dualcontrol-web.service)
GUNICORN_FLAGS = [
    "--workers",
    "5",
    "--worker-class",
    "sync",
    "--timeout",
    "120",
    "--graceful-timeout",
    "30",
    "--max-requests",
    "2000",
    "--max-requests-jitter",
    "200",
]
# production's persistent connections (settings.py: conn_max_age=60 outside demo/test mode)
PRODUCTION_CONN_MAX_AGE = 60

# technical constants
WARMUP_REQUESTS = 20  # per target, WARMUP_PARALLEL at a time: every worker renders the page
WARMUP_PARALLEL = 5
STATS_FLUSH_S = 11.0  # PostgreSQL 15 backends flush their counters after 10 s idle at the latest
SERVER_START_S = 90.0  # gunicorn must answer within this
SERVER_STOP_S = 40.0  # graceful stop, then SIGKILL (as the systemd unit's TimeoutStopSec)


@dataclass(frozen=True)
class Target:
    name: str
    path: str  # "{drilldown}" is replaced by the drill-down's target pk
    api: bool = False


TARGETS = {
    t.name: t
    for t in (
        Target("home", "/"),
        Target("barometer", "/targets/"),
        Target("drilldown", "/targets/{drilldown}/drilldown/"),
        Target("reports", "/reports/"),
        Target("api_reports", "/api/reports/?page=1", api=True),
        Target("api_warnings", "/api/targets/warnings?page=1", api=True),
    )
}


@dataclass
class Figures:
    target: str
    scale: int
    mode: str
    run: loadgen.Run
    rows_per_request: float


@dataclass
class Options:
    scales: list[int]
    rate: float
    users: int
    seconds: float
    rebuild: bool
    targets: list[str]
    poisson: bool
    data_dir: Path
    pg_url: str
    conn_max_age: int


def parse_options(argv: list[str]) -> Options:
    env = os.environ.get
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_load", description=__doc__)
    p.add_argument("--scale", default=env("LOAD_SCALES", "1,10"), help="e.g. 1,10")
    p.add_argument("--rate", type=float, default=float(env("LOAD_RATE", str(GOAL_RATE))))
    p.add_argument("--users", type=int, default=int(env("LOAD_USERS", "20")))
    p.add_argument("--seconds", type=float, default=float(env("LOAD_SECONDS", "20")))
    p.add_argument("--rebuild", action="store_true", default=env("LOAD_REBUILD", "") == "1")
    p.add_argument("--targets", default=env("LOAD_TARGETS", ",".join(TARGETS)))
    p.add_argument(
        "--arrivals", choices=["poisson", "fixed"], default=env("LOAD_ARRIVALS", "poisson")
    )
    p.add_argument(
        "--data-dir",
        default=env("LOAD_DATA_DIR", str(Path(tempfile.gettempdir()) / "dualcontrol_load")),
        help="one DUALCONTROL_DATA_DIR per database below it (uploads, static files, logs)",
    )
    p.add_argument("--pg-url", default=env("LOAD_PG_URL", f"postgres://postgres@{HOST}:5432"))
    p.add_argument(
        "--conn-max-age",
        type=int,
        default=int(env("LOAD_CONN_MAX_AGE", str(PRODUCTION_CONN_MAX_AGE))),
        help="database connection lifetime in the workers (production's; 0: demo's, none)",
    )
    a = p.parse_args(argv)
    targets = [t.strip() for t in a.targets.split(",") if t.strip()]
    unknown = sorted(set(targets) - set(TARGETS))
    if unknown:
        p.error(f"unknown target(s) {', '.join(unknown)}; known: {', '.join(TARGETS)}")
    host = urllib.parse.urlsplit(a.pg_url).hostname
    if host not in {"127.0.0.1", "localhost", "::1"}:
        p.error("loopback only: the database must be on 127.0.0.1")
    return Options(
        scales=sorted({int(s) for s in a.scale.split(",") if s.strip()}),
        rate=a.rate,
        users=a.users,
        seconds=a.seconds,
        rebuild=a.rebuild,
        targets=targets,
        poisson=a.arrivals == "poisson",
        data_dir=Path(a.data_dir),
        pg_url=a.pg_url.rstrip("/"),
        conn_max_age=a.conn_max_age,
    )


# --- the database --------------------------------------------------------------------------


def exe(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


@dataclass
class Site:
    """One data size: its database, data directory and the environment of its processes."""

    scale: int
    units: int
    opts: Options

    @property
    def db(self) -> str:
        return f"{DB_PREFIX}{self.scale}x"

    @property
    def url(self) -> str:
        return f"{self.opts.pg_url}/{self.db}"

    @property
    def data_dir(self) -> Path:
        return self.opts.data_dir / self.db

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.url,
                "DUALCONTROL_ENV": "demo",
                "DUALCONTROL_DATA_DIR": str(self.data_dir),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(extra)
        return env

    def cli(self, *args: str, nice: bool = False, quiet: bool = True) -> str:
        cmd = [exe("dualcontrol"), *args]
        if nice:
            cmd = ["nice", "-n", "5", *cmd]
        done = subprocess.run(cmd, env=self.env(), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        if not quiet:
            print(done.stdout.rstrip())
        return done.stdout

    def django(self, code: str, *, nice: bool = False) -> str:
        """Run ``code`` in a child Python with Django set up as the CLI sets it up."""
        prelude = "from dualcontrol.cli import setup_django; setup_django()\n"
        cmd = [sys.executable, "-c", prelude + code]
        if nice:
            cmd = ["nice", "-n", "5", *cmd]
        done = subprocess.run(cmd, env=self.env(), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"python -c failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout


def psql_conn(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(url, autocommit=True)


def database_exists(site: Site) -> bool:
    with psql_conn(f"{site.opts.pg_url}/postgres") as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [site.db]).fetchone()
    return row is not None


def demo_units(site: Site) -> int | None:
    """The synthetic key units in the database, or None when it holds no demo province."""
    with psql_conn(site.url) as conn:
        exists = conn.execute("SELECT to_regclass('entities_entity')").fetchone()
        if exists is None or exists[0] is None:
            return None
        row = conn.execute("SELECT count(*) FROM entities_entity WHERE is_synthetic").fetchone()
    return int(row[0]) if row and row[0] else None


def prepare(site: Site) -> None:
    """Build the demo province at this scale, or bring a built one up to date."""
    assert site.db.startswith(DB_PREFIX)
    site.data_dir.mkdir(parents=True, exist_ok=True)
    stamp = site.data_dir / "build.json"
    if site.opts.rebuild and database_exists(site):
        print(f"{site.db}: dropping it (--rebuild)", flush=True)
        subprocess.run(["dropdb", "-h", HOST, "-U", "postgres", "--force", site.db], check=True)
    if not database_exists(site):
        subprocess.run(["createdb", "-h", HOST, "-U", "postgres", site.db], check=True)
    units = demo_units(site)
    if units is not None:
        built = json.loads(stamp.read_text()) if stamp.exists() else {}
        took = f", built in {built['seconds']:.0f} s" if "seconds" in built else ""
        print(f"{site.db}: reusing the demo province ({units} synthetic units{took})", flush=True)
        if units != site.units:
            raise SystemExit(
                f"{site.db} holds {units} synthetic units, not {site.units}: run with --rebuild"
            )
        started = time.perf_counter()
        site.cli("migrate")
        note = refresh_rollups(site, everything=True)
        print(f"  migrate{note}: {time.perf_counter() - started:.0f} s")
        return
    print(f"{site.db}: building the demo province with {site.units} units …", flush=True)
    started = time.perf_counter()
    site.cli("migrate", nice=True)
    summary = site.django(
        f"from dualcontrol.demo.builder import build\nprint(build(units={site.units}))",
        nice=True,
    )
    seconds = time.perf_counter() - started
    stamp.write_text(json.dumps({"units": site.units, "seconds": seconds}))
    print(f"  built in {seconds:.0f} s: {summary.strip()}", flush=True)
    started = time.perf_counter()
    note = refresh_rollups(site, everything=False)
    print(f"  after the build:{note} ({time.perf_counter() - started:.0f} s)", flush=True)


def refresh_rollups(site: Site, *, everything: bool) -> str:
    """``dualcontrol rollups refresh`` when the platform has the command (issue 18).

    A reused database may have been built before the roll-ups existed (or by older code): its
    roll-ups are then empty and no year is marked as changed, so every year is recomputed
    (``--all``, when the command has it); after a fresh build the changed years suffice.
    """
    if "rollups" not in site.cli("--help"):
        return " (no rollups command)"
    args = ["rollups", "refresh"]
    if everything and "--all" in site.cli("rollups", "refresh", "--help"):
        args.append("--all")
    site.cli(*args, nice=True)
    return f" + {' '.join(args)}"


# --- the server ----------------------------------------------------------------------------

_SETTINGS_DUMP = """
import json, os, re
os.environ["DJANGO_SETTINGS_MODULE"] = "dualcontrol.settings"
import django
django.setup()
from django.conf import settings as s
out = {}
for k in dir(s):
    if not k.isupper() or k in {"SECRET_KEY", "DATA_DIR"}:
        continue
    v = getattr(s, k)
    if k == "DATABASES":
        for kk, vv in v["default"].items():
            out[f"DATABASES.{kk}"] = repr(vv)
    else:
        out[k] = re.sub(" at 0x[0-9a-f]+", "", repr(v))  # the same callable, another process
print(json.dumps(out))
"""


def production_like_env() -> dict[str, str]:
    """Production's settings that the environment sets (docs/operations.md §2.1)."""
    return {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DUALCONTROL_LOG_LEVEL": "WARNING",
    }


def settings_differences(site: Site, env: dict[str, str]) -> list[str]:
    """The settings of this run that differ from DUALCONTROL_ENV=production with the same env."""
    dumps = {}
    for mode in ("demo", "production"):
        done = subprocess.run(
            [sys.executable, "-c", _SETTINGS_DUMP],
            env=site.env(**env, DUALCONTROL_ENV=mode),
            capture_output=True,
            text=True,
            check=True,
        )
        dumps[mode] = json.loads(done.stdout)
    here, prod = dumps["demo"], dumps["production"]
    lines = []
    for k in sorted(set(here) | set(prod)):
        if here.get(k) != prod.get(k):
            note = ""
            if k == "DATABASES.CONN_MAX_AGE" and site.opts.conn_max_age:
                note = f"  → set to {site.opts.conn_max_age} in the workers (gunicorn hook)"
            lines.append(f"  {k}: here {here.get(k, '-')}, production {prod.get(k, '-')}{note}")
    return lines


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


_GUNICORN_HOOK = """
def post_worker_init(worker):
    # production keeps database connections open (settings.py: conn_max_age outside demo mode)
    from django.conf import settings
    settings.DATABASES["default"]["CONN_MAX_AGE"] = {age}
"""


@contextmanager
def serving(site: Site) -> Iterator[int]:
    """gunicorn on a free loopback port for the duration of the block; always stopped."""
    env = production_like_env()
    site.cli("manage", "collectstatic", "--noinput")
    print("settings that differ from production (besides DUALCONTROL_ENV=demo):")
    print("\n".join(settings_differences(site, env)) or "  none")
    port = free_port()
    logs = site.data_dir / "logs"
    logs.mkdir(exist_ok=True)
    access, errors = logs / "gunicorn-access.log", logs / "gunicorn-error.log"
    access.unlink(missing_ok=True)
    cmd = [
        exe("gunicorn"),
        "dualcontrol.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        *GUNICORN_FLAGS,
        "--access-logfile",
        str(access),
    ]
    if site.opts.conn_max_age:
        hook = logs / "gunicorn_conf.py"
        hook.write_text(_GUNICORN_HOOK.format(age=site.opts.conn_max_age))
        cmd += ["--config", str(hook)]
    print(f"gunicorn {' '.join(cmd[2:])}", flush=True)
    with errors.open("w") as err:
        proc = subprocess.Popen(
            cmd,
            env=site.env(**env),
            cwd=site.data_dir,
            stdout=err,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole below
        )
    try:
        wait_until_up(proc, port, errors)
        yield port
    finally:
        stop(proc)


def wait_until_up(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        sample = loadgen.fetch(HOST, port, loadgen.Request("/accounts/login/"))
        if sample.status == 200:
            return
        time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer within {SERVER_START_S:.0f} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=SERVER_STOP_S)
    with suppress(ProcessLookupError):  # workers left behind by a master that died
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


# --- logging in ----------------------------------------------------------------------------


@dataclass
class Credentials:
    cookie: str  # for pages
    token: str  # for the API


def demo_code(site: Site, username: str, not_this: str | None = None) -> str:
    """The current TOTP code of a demo account; a code differing from ``not_this`` (codes work once)."""
    while True:
        out = site.cli("demo-otp", username).split()
        code = out[0]
        if code != not_this:
            return code
        left = next((int(w) for w in out if w.isdigit() and w != code), 1)
        time.sleep(min(left, 30) + 1)


def log_in(site: Site, port: int) -> Credentials:
    base = f"http://{HOST}:{port}"
    password, usernames = json.loads(
        site.django(
            "import json\nfrom dualcontrol.demo.builder import DEMO_PASSWORD, demo_usernames\n"
            "print(json.dumps([DEMO_PASSWORD, demo_usernames()]))"
        )
    )
    if OFFICER not in usernames:
        raise RuntimeError(f"{OFFICER} is not among the demo logins {usernames}")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def csrf_field(html: str) -> str:
        m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        if not m:
            raise RuntimeError("no CSRF token in the form")
        return m.group(1)

    def post(url: str, page: str, data: dict[str, str]) -> tuple[str, str]:
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf_field(page), **data}).encode()
        with opener.open(urllib.request.Request(url, data=body, headers={"Referer": url})) as r:
            return r.geturl(), r.read().decode()

    login_url = f"{base}/accounts/login/"
    with opener.open(login_url) as r:
        page = r.read().decode()
    url, page = post(login_url, page, {"username": OFFICER, "password": password})
    web_code = None
    if "/accounts/2fa/verify/" in url:
        web_code = demo_code(site, OFFICER)
        url, page = post(url, page, {"code": web_code})
    if urllib.parse.urlsplit(url).path != "/":
        raise RuntimeError(f"login as {OFFICER} ended at {url}")
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)

    body: dict[str, str] = {"username": OFFICER, "password": password}
    if web_code is not None:  # the same second factor for the API, with the next code
        body["otp"] = demo_code(site, OFFICER, not_this=web_code)
    req = urllib.request.Request(
        f"{base}/api/auth/token",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req) as r:
            token = json.loads(r.read())["token"]
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"API token refused: {exc.code} {exc.read()[:300]!r}") from exc
    return Credentials(cookie=cookie, token=token)


def drilldown_pk(port: int, creds: Credentials) -> int:
    """The province's energy-intensity target of the latest plan (the barometer's current one)."""
    from dualcontrol.reference import load_yaml

    province = load_yaml("demo_yunnan.yaml")[1]["province_code"]
    path = f"/api/targets/?indicator={INTENSITY}&division={province}&page=1"
    req = urllib.request.Request(
        f"http://{HOST}:{port}{path}", headers={"Authorization": f"Bearer {creds.token}"}
    )
    with urllib.request.urlopen(req) as r:
        data = json.loads(r.read())
    mine = [t for t in data["items"] if t["division_code"] == province]
    if not mine:
        raise RuntimeError(f"no {INTENSITY} target of division {province}: {data}")
    return int(max(mine, key=lambda t: (t["end_year"], t["id"]))["id"])


# --- measuring -----------------------------------------------------------------------------


def rows_read(site: Site) -> int:
    with psql_conn(site.url) as conn:
        row = conn.execute(
            "SELECT tup_returned + tup_fetched FROM pg_stat_database WHERE datname = %s",
            [site.db],
        ).fetchone()
    return int(row[0]) if row else 0


def server_connections(site: Site) -> int:
    with psql_conn(site.url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [site.db],
        ).fetchone()
    return int(row[0]) if row else 0


def drive(site: Site, port: int, creds: Credentials, pk: int) -> list[Figures]:
    opts = site.opts
    out: list[Figures] = []
    for name in opts.targets:
        target = TARGETS[name]
        headers = (
            {"Authorization": f"Bearer {creds.token}"} if target.api else {"Cookie": creds.cookie}
        )
        request = loadgen.Request(target.path.format(drilldown=pk), headers)
        before = rows_read(site)
        warm = loadgen.warm_up(HOST, port, request, count=WARMUP_REQUESTS, parallel=WARMUP_PARALLEL)
        if warm.errors == warm.count:
            print(f"  {name}: every warm-up request failed {dict(warm.statuses())}", flush=True)
        runs = {
            "open": loadgen.open_loop(
                HOST, port, request, rate=opts.rate, seconds=opts.seconds, poisson=opts.poisson
            ),
            "closed": loadgen.closed_loop(
                HOST, port, request, users=opts.users, seconds=opts.seconds
            ),
        }
        connections = server_connections(site)
        time.sleep(STATS_FLUSH_S)
        requests = warm.count + sum(r.count for r in runs.values())
        per_request = (rows_read(site) - before) / requests if requests else math.nan
        for mode, run in runs.items():
            fig = Figures(name, site.scale, mode, run, per_request)
            out.append(fig)
            print(line(fig), flush=True)
        print(f"    ({connections} database connections open after the runs)", flush=True)
    return out


HEADER = (
    f"  {'target':<13}{'scale':>6} {'mode':<7}{'reqs':>6}{'p50 ms':>9}{'p95 ms':>9}"
    f"{'p99 ms':>9}{'req/s':>8}{'errors':>8}{'rows/req':>10}{'KiB':>6}"
)


def line(f: Figures) -> str:
    r = f.run
    err = str(r.errors) + (f" {dict(r.statuses())}" if r.errors else "")
    return (
        f"  {f.target:<13}{str(f.scale) + 'x':>6} {f.mode:<7}{r.count:>6}"
        f"{r.percentile_ms(50):>9.1f}{r.percentile_ms(95):>9.1f}{r.percentile_ms(99):>9.1f}"
        f"{r.throughput:>8.1f}{err:>8}{f.rows_per_request:>10.0f}{r.mean_kb:>6.0f}"
    )


def verdicts(opts: Options, results: list[Figures]) -> list[str]:
    big, small = max(opts.scales), min(opts.scales)
    open_ = {(f.target, f.scale): f.run for f in results if f.mode == "open"}
    lines = []
    if opts.rate != GOAL_RATE:
        lines.append(f"  (open loop ran at {opts.rate:g} req/s, the goal is at {GOAL_RATE:g})")
    for name in opts.targets:
        run = open_.get((name, big))
        if run is None:
            continue
        p95 = run.percentile_ms(95)
        ok = p95 < GOAL_P95_MS and run.errors == 0
        errs = f", {run.errors} errors" if run.errors else ""
        lines.append(
            f"  {name:<13} p95 < {GOAL_P95_MS:g} ms at {opts.rate:g} req/s, {big}x: "
            f"{'meets' if ok else 'misses'} (p95 {p95:.1f} ms{errs})"
        )
        base = open_.get((name, small))
        if base is not None and big != small:
            p50_small, p50_big = base.percentile_ms(50), run.percentile_ms(50)
            ratio = p50_big / p50_small if p50_small else math.inf
            lines.append(
                f"  {name:<13} p50 at {big}x ≤ {GOAL_GROWTH:g} × p50 at {small}x: "
                f"{'meets' if ratio <= GOAL_GROWTH else 'misses'} "
                f"({p50_big:.1f} ms vs {p50_small:.1f} ms, ×{ratio:.2f})"
            )
    return lines


def postgres_reachable(opts: Options) -> bool:
    try:
        with psql_conn(f"{opts.pg_url}/postgres"):
            return True
    except Exception as exc:
        print(f"skipped: PostgreSQL at {opts.pg_url} not reachable ({exc})")
        return False


def main(argv: list[str] | None = None) -> None:
    opts = parse_options(argv or [])
    if not postgres_reachable(opts):
        return
    from dualcontrol.reference import load_yaml

    base_units = int(load_yaml("demo_yunnan.yaml")[1]["synthetic"]["units"])
    print(
        f"scales {', '.join(f'{s}x' for s in opts.scales)} (x {base_units} units); targets "
        f"{', '.join(opts.targets)}; open loop {opts.rate:g} req/s "
        f"({'Poisson' if opts.poisson else 'fixed spacing'}), closed loop {opts.users} users; "
        f"{opts.seconds:g} s each; rows read: pg_stat_database (tup_returned + tup_fetched), "
        f"over warm-up and both runs",
        flush=True,
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load} (client, server and database share them)"
    )
    results: list[Figures] = []
    for scale in opts.scales:
        site = Site(scale, scale * base_units, opts)
        prepare(site)
        print(f"load average before serving: {os.getloadavg()[0]:.2f}", flush=True)
        with serving(site) as port:
            creds = log_in(site, port)
            pk = drilldown_pk(port, creds)
            print(f"logged in as {OFFICER}; drill-down target pk {pk}", flush=True)
            print(HEADER, flush=True)
            results += drive(site, port, creds, pk)
    print("\nall figures:")
    print(HEADER)
    modes = ["open", "closed"]
    for f in sorted(
        results, key=lambda f: (opts.targets.index(f.target), modes.index(f.mode), f.scale)
    ):
        print(line(f))
    print("\nverdict (issue 18):")
    print("\n".join(verdicts(opts, results)))


if __name__ == "__main__":
    main(sys.argv[1:])
