"""``dualcontrol backup DEST_DIR`` and ``dualcontrol restore SRC_DIR --database-url URL``.

A backup is one directory:

- ``database.dump`` (PostgreSQL: ``pg_dump -Fc``) or ``database.sqlite3`` (SQLite backup API);
- ``media.tar.gz``: the uploaded files (``MEDIA_ROOT``);
- ``manifest.json``: when, from which database, the tool versions, the row count of every table
  (counted in the very snapshot the dump was taken from), the applied migrations, and the size
  and SHA-256 of each file.

``restore`` verifies every hash before touching anything, refuses a target database (or media
folder) that is not empty unless ``--force``, restores, and then compares the restored row
counts with the manifest: a restore that reports success has been checked. PostgreSQL's own
tools do the dumping (a hand-written exporter would miss sequences, triggers and grants); this
module only adds the consistent snapshot, the manifest and the checks around them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from dualcontrol.cli import CommandError, setup_django

MANIFEST = "manifest.json"
FORMAT = 1
PG_DUMP_FILE = "database.dump"
SQLITE_FILE = "database.sqlite3"
MEDIA_FILE = "media.tar.gz"
PG_ENGINES = {"django.db.backends.postgresql"}
SQLITE_ENGINE = "django.db.backends.sqlite3"
# libpq connection parameters Django's OPTIONS may carry (the rest are Django's own)
LIBPQ_OPTIONS = {
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslcrl",
    "sslpassword",
    "connect_timeout",
    "application_name",
    "options",
    "target_session_attrs",
    "gssencmode",
    "passfile",
    "service",
}


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "backup",
        help="back up the database and the uploaded files into DEST_DIR (with a hashed manifest)",
        description="Back up the platform's database (PostgreSQL: pg_dump -Fc in a consistent "
        "snapshot; SQLite: the SQLite backup API) and MEDIA_ROOT into DEST_DIR, a new or empty "
        "directory, with manifest.json (row counts, sizes, SHA-256). A failed backup leaves no "
        "DEST_DIR behind.",
    )
    p.add_argument("dest", metavar="DEST_DIR", type=Path)
    p.add_argument(
        "--pg-bin",
        metavar="DIR",
        default=os.environ.get("DUALCONTROL_PG_BIN"),
        help="directory of pg_dump matching the server's major version "
        "(default: $DUALCONTROL_PG_BIN, else PATH)",
    )
    p.set_defaults(func=backup)

    p = subparsers.add_parser(
        "restore",
        help="restore a backup into an empty database (verifies the hashes first)",
        description="Verify SRC_DIR's manifest (every file's size and SHA-256), restore the "
        "database into --database-url and the uploaded files into --media-root, then check the "
        "row count of every table against the manifest.",
    )
    p.add_argument("src", metavar="SRC_DIR", type=Path)
    p.add_argument(
        "--database-url",
        required=True,
        metavar="URL",
        help="target database (postgres://… of an existing, empty database; sqlite:///path)",
    )
    p.add_argument(
        "--media-root",
        type=Path,
        metavar="DIR",
        help="where the uploaded files go (default: MEDIA_ROOT of the settings)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="restore over a non-empty database and media folder (their objects are replaced)",
    )
    p.add_argument(
        "--no-owner",
        action="store_true",
        help="PostgreSQL: objects owned by the restoring role, grants not restored (another "
        "cluster whose roles differ; re-run the grants of docs/operations.md afterwards)",
    )
    p.add_argument(
        "--pg-bin",
        metavar="DIR",
        default=os.environ.get("DUALCONTROL_PG_BIN"),
        help="directory of pg_restore (default: $DUALCONTROL_PG_BIN, else PATH)",
    )
    p.set_defaults(func=restore)


# --- shared helpers -------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_entry(path: Path) -> dict[str, Any]:
    return {"bytes": path.stat().st_size, "sha256": sha256_of(path)}


def pg_params(db: dict[str, Any]) -> dict[str, str]:
    """libpq connection parameters of a Django database setting (password included)."""
    params = {
        "dbname": db.get("NAME") or "",
        "user": db.get("USER") or "",
        "password": db.get("PASSWORD") or "",
        "host": db.get("HOST") or "",
        "port": str(db.get("PORT") or ""),
    }
    for key, value in (db.get("OPTIONS") or {}).items():
        if key in LIBPQ_OPTIONS and value not in (None, ""):
            params[key] = str(value)
    return {k: v for k, v in params.items() if v}


def _pg_tool(name: str, pg_bin: str | None) -> tuple[str, tuple[int, int]]:
    """Path and (major, minor) version of a PostgreSQL client program."""
    path = str(Path(pg_bin) / name) if pg_bin else shutil.which(name)
    if not path or not Path(path).exists():
        where = f"in {pg_bin}" if pg_bin else "on PATH"
        raise CommandError(
            f"{name} not found {where}: install the PostgreSQL client tools "
            "(Debian: apt install postgresql-client) or pass --pg-bin DIR"
        )
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"(\d+)(?:\.(\d+))?", out)
    if not match:
        raise CommandError(f"cannot read the version of {path}: {out.strip()!r}")
    return path, (int(match.group(1)), int(match.group(2) or 0))


def check_dump_version(server_major: int, pg_dump_major: int) -> None:
    """pg_dump refuses a server newer than itself: say what to install instead."""
    if server_major > pg_dump_major:
        raise CommandError(
            f"pg_dump {pg_dump_major} cannot dump a PostgreSQL {server_major} server: install the "
            f"PostgreSQL {server_major} client tools (Debian/Ubuntu: apt install "
            f"postgresql-client-{server_major}, from apt.postgresql.org when the distribution "
            f"has none) and pass --pg-bin /usr/lib/postgresql/{server_major}/bin "
            "(or set DUALCONTROL_PG_BIN)"
        )


def check_restore_version(archive_major: int, pg_restore_major: int) -> None:
    """pg_restore reads archives of its own and older versions only."""
    if archive_major > pg_restore_major:
        raise CommandError(
            f"this backup was written by pg_dump {archive_major}; pg_restore {pg_restore_major} "
            f"cannot read it: install the PostgreSQL {archive_major} client tools and pass "
            f"--pg-bin /usr/lib/postgresql/{archive_major}/bin (or set DUALCONTROL_PG_BIN)"
        )


def _pg_connect(params: dict[str, str]) -> Any:
    import psycopg

    try:
        return psycopg.connect(**params)  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        safe = {k: v for k, v in params.items() if k != "password"}
        hint = ""
        if "does not exist" in str(exc) and "database" in str(exc):
            hint = " (create it first: CREATE DATABASE … OWNER …; see docs/operations.md)"
        raise CommandError(f"cannot connect to PostgreSQL {safe}: {exc}".strip() + hint) from exc


def pg_table_counts(conn: Any) -> dict[str, int]:
    """Row count of every table outside the system schemas (``schema.table`` unless public)."""
    from psycopg import sql

    rows = conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' "
        "ORDER BY 1, 2"
    ).fetchall()
    counts = {}
    for schema, table in rows:
        (n,) = conn.execute(
            sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
        ).fetchone()
        counts[table if schema == "public" else f"{schema}.{table}"] = int(n)
    return counts


def sqlite_table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
            "ESCAPE '\\' ORDER BY name"
        )
    ]
    return {
        name: int(
            conn.execute(f'SELECT count(*) FROM "{name.replace(chr(34), chr(34) * 2)}"').fetchone()[
                0
            ]
        )
        for name in names
    }


def audit_head(conn: Any, *, sqlite: bool) -> dict[str, Any] | None:
    """The newest audit entry's id and chain hash (``dualcontrol audit verify`` checks the chain;
    kept in the manifest, a rewrite of the whole chain after the backup shows too)."""
    if sqlite:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(audit_auditentry)")}
    else:
        columns = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND table_name = 'audit_auditentry'"
            )
        }
    if not {"id", "entry_hash"} <= columns:
        return None
    row = conn.execute(
        "SELECT id, entry_hash FROM audit_auditentry ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return {"id": int(row[0]), "entry_hash": row[1]} if row else None


def _count_mismatches(expected: dict[str, int], actual: dict[str, int]) -> list[str]:
    problems = []
    for table in sorted(set(expected) | set(actual)):
        want, got = expected.get(table), actual.get(table)
        if want is None:
            problems.append(f"table {table}: not in the backup, {got} rows after the restore")
        elif got is None:
            problems.append(f"table {table}: missing after the restore ({want} rows in the backup)")
        elif want != got:
            problems.append(f"table {table}: {want} rows in the backup, {got} after the restore")
    return problems


# --- backup ---------------------------------------------------------------------------------


def backup(args: argparse.Namespace) -> int:
    setup_django()
    from django.conf import settings

    dest: Path = args.dest.resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise CommandError(f"{dest} exists and is not an empty directory: choose a new one")
    dest.parent.mkdir(parents=True, exist_ok=True)
    db = settings.DATABASES["default"]
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        if db["ENGINE"] in PG_ENGINES:
            database = _backup_postgresql(db, work, args.pg_bin)
        elif db["ENGINE"] == SQLITE_ENGINE:
            database = _backup_sqlite(db, work)
        else:
            raise CommandError(f"no backup method for the database engine {db['ENGINE']}")
        media_files = _tar_media(Path(settings.MEDIA_ROOT), work / MEDIA_FILE)
        manifest = _manifest(database, media_files, Path(settings.MEDIA_ROOT), work)
        (work / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        if dest.exists():
            dest.rmdir()
        work.rename(dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    rows = sum(manifest["tables"].values())
    print(
        f"backup written to {dest}: {manifest['engine']} database {manifest['database']['name']} "
        f"({len(manifest['tables'])} tables, {rows} rows), {media_files} uploaded files"
    )
    for name, entry in manifest["files"].items():
        print(f"  {name}  {entry['bytes']} bytes  sha256 {entry['sha256']}")
    return 0


def _backup_postgresql(db: dict[str, Any], work: Path, pg_bin: str | None) -> dict[str, Any]:
    from psycopg import IsolationLevel
    from psycopg.conninfo import make_conninfo

    pg_dump, version = _pg_tool("pg_dump", pg_bin)
    params = pg_params(db)
    conn = _pg_connect(params)
    try:
        server_num = conn.info.server_version
        server_major = server_num // 10000
        check_dump_version(server_major, version[0])
        # one snapshot for the counts and the dump: the manifest describes exactly what was dumped
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        (snapshot,) = conn.execute("SELECT pg_export_snapshot()").fetchone()
        counts = pg_table_counts(conn)
        head = audit_head(conn, sqlite=False)
        conninfo = make_conninfo(**{k: v for k, v in params.items() if k != "password"})
        env = dict(os.environ)
        if "password" in params:
            env["PGPASSWORD"] = params["password"]  # not on the command line (ps shows that)
        result = subprocess.run(
            [
                pg_dump,
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={work / PG_DUMP_FILE}",
                f"--dbname={conninfo}",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    finally:
        conn.close()
    if result.returncode != 0:
        message = result.stderr.strip()
        if "version mismatch" in message:
            message += (
                f" — use the pg_dump of the server's version ({server_major}): --pg-bin "
                f"/usr/lib/postgresql/{server_major}/bin (or set DUALCONTROL_PG_BIN)"
            )
        raise CommandError(f"pg_dump failed (exit {result.returncode}): {message}")
    return {
        "engine": "postgresql",
        "file": PG_DUMP_FILE,
        "name": params.get("dbname", ""),
        "host": params.get("host", ""),
        "server_version": f"{server_major}.{server_num % 10000}",
        "tool": f"pg_dump {version[0]}.{version[1]}",
        "tables": counts,
        "audit_head": head,
    }


def _backup_sqlite(db: dict[str, Any], work: Path) -> dict[str, Any]:
    from django.db import connections

    connection = connections["default"]
    connection.ensure_connection()
    target = sqlite3.connect(work / SQLITE_FILE)
    try:
        # the SQLite online backup API: a consistent copy while the platform keeps running
        connection.connection.backup(target)
        counts = sqlite_table_counts(target)
        head = audit_head(target, sqlite=True)
    finally:
        target.close()
    return {
        "engine": "sqlite",
        "file": SQLITE_FILE,
        "name": str(db["NAME"]),
        "host": "",
        "server_version": sqlite3.sqlite_version,
        "tool": f"sqlite3 {sqlite3.sqlite_version} backup API",
        "tables": counts,
        "audit_head": head,
    }


def _tar_media(root: Path, target: Path) -> int:
    """Every regular file under ``root`` (names relative to it); symbolic links are not followed."""
    files = 0
    with tarfile.open(target, "w:gz") as tar:
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_symlink() or not (path.is_file() or path.is_dir()):
                    continue
                tar.add(path, arcname=path.relative_to(root).as_posix(), recursive=False)
                files += path.is_file()
    return files


def _applied_migrations() -> dict[str, list[str]]:
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connections["default"])
    if not recorder.has_table():
        return {}
    applied: dict[str, list[str]] = {}
    for app, name in sorted(recorder.applied_migrations()):
        applied.setdefault(app, []).append(name)
    return applied


def _manifest(
    database: dict[str, Any], media_files: int, media_root: Path, work: Path
) -> dict[str, Any]:
    from django.utils import timezone

    from dualcontrol import __version__

    return {
        "format": FORMAT,
        "created": timezone.now().isoformat(timespec="seconds"),
        "dualcontrol_version": __version__,
        "engine": database["engine"],
        "database": {
            "name": database["name"],
            "host": database["host"],
            "server_version": database["server_version"],
            "tool": database["tool"],
            "file": database["file"],
        },
        "media": {"root": str(media_root), "file": MEDIA_FILE, "files": media_files},
        "tables": database["tables"],
        "audit_head": database["audit_head"],
        "migrations": _applied_migrations(),
        "files": {name: _file_entry(work / name) for name in (database["file"], MEDIA_FILE)},
    }


# --- restore --------------------------------------------------------------------------------


def verify_backup(src: Path) -> dict[str, Any]:
    """The backup's manifest once every file it lists has its size and hash; else every problem."""
    path = src / MANIFEST
    if not path.is_file():
        raise CommandError(f"{src} is not a backup: no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path} is not valid JSON: {exc}") from exc
    problems = []
    if manifest.get("format") != FORMAT:
        problems.append(f"manifest format {manifest.get('format')!r}, this version reads {FORMAT}")
    files = manifest.get("files") or {}
    for required in (manifest.get("database", {}).get("file"), MEDIA_FILE):
        if required and required not in files:
            problems.append(f"{required}: not listed in the manifest")
    for name, entry in sorted(files.items()):
        file = src / name
        if Path(name).name != name:
            problems.append(f"{name}: not a plain file name")
        elif not file.is_file():
            problems.append(f"{name}: missing")
        elif file.stat().st_size != entry.get("bytes"):
            problems.append(
                f"{name}: {file.stat().st_size} bytes, the manifest says {entry.get('bytes')}"
            )
        elif sha256_of(file) != entry.get("sha256"):
            problems.append(f"{name}: SHA-256 differs from the manifest (damaged or altered)")
    if problems:
        raise CommandError(
            f"backup {src} fails verification; nothing was restored:\n- " + "\n- ".join(problems)
        )
    return manifest


def restore(args: argparse.Namespace) -> int:
    setup_django()
    import dj_database_url
    from django.conf import settings

    src: Path = args.src.resolve()
    manifest = verify_backup(src)
    target = dj_database_url.parse(args.database_url)
    media_root = (args.media_root or Path(settings.MEDIA_ROOT)).resolve()
    engine = manifest["engine"]
    want = {"postgresql": PG_ENGINES, "sqlite": {SQLITE_ENGINE}}.get(engine, set())
    if target["ENGINE"] not in want:
        raise CommandError(
            f"this backup is of a {engine} database; --database-url is {target['ENGINE']}"
        )
    # every refusal before anything is written
    if media_root.exists() and any(media_root.iterdir()) and not args.force:
        raise CommandError(
            f"media folder {media_root} is not empty: choose an empty --media-root, or --force"
        )
    if engine == "postgresql":
        counts, head = _restore_postgresql(src, manifest, target, args)
    else:
        counts, head = _restore_sqlite(src, manifest, target, args)
    media_files = _untar_media(src / MEDIA_FILE, media_root)
    problems = _count_mismatches(manifest["tables"], counts)
    if head != manifest.get("audit_head"):
        problems.append(
            f"newest audit entry {head}, the manifest says {manifest.get('audit_head')}"
        )
    if problems:
        raise CommandError(
            "the restored database does not match the backup:\n- " + "\n- ".join(problems)
        )
    print(
        f"restored {src} into {engine} database {target['NAME']}: {len(counts)} tables, "
        f"{sum(counts.values())} rows, every row count and the newest audit entry as in the "
        "manifest; "
        f"{media_files} uploaded files into {media_root}"
    )
    return 0


def _restore_postgresql(
    src: Path, manifest: dict[str, Any], target: dict[str, Any], args: argparse.Namespace
) -> tuple[dict[str, int], dict[str, Any] | None]:
    from psycopg.conninfo import make_conninfo

    pg_restore, version = _pg_tool("pg_restore", args.pg_bin)
    tool = manifest["database"].get("tool", "")
    match = re.search(r"pg_dump (\d+)", tool)
    if match:
        check_restore_version(int(match.group(1)), version[0])
    params = pg_params(target)
    conn = _pg_connect(params)
    conn.autocommit = True
    try:
        existing = pg_table_counts(conn)
        if existing and not args.force:
            shown = ", ".join(sorted(existing)[:5])
            raise CommandError(
                f"target database {params.get('dbname')} is not empty ({len(existing)} tables: "
                f"{shown}{', …' if len(existing) > 5 else ''}): restore into a new database "
                "(CREATE DATABASE …), or pass --force to replace its objects"
            )
        conninfo = make_conninfo(**{k: v for k, v in params.items() if k != "password"})
        env = dict(os.environ)
        if "password" in params:
            env["PGPASSWORD"] = params["password"]
        owner = ["--no-owner", "--no-privileges"] if args.no_owner else []
        if existing:
            # --force: pg_restore --clean cannot drop the inherited keys of partitions (monthly
            # metering partitions), so the schema is replaced instead — in the same transaction
            # as the restore (psql --single-transaction), so a failure leaves the database as it was
            psql, _ = _pg_tool("psql", args.pg_bin)
            result = _replace_schema(pg_restore, psql, owner, conninfo, src / PG_DUMP_FILE, env)
        else:
            command = [pg_restore, "--exit-on-error", "--single-transaction", *owner]
            command += [f"--dbname={conninfo}", str(src / PG_DUMP_FILE)]
            result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            hint = ""
            if "role" in result.stderr and "does not exist" in result.stderr:
                hint = " (the backup's roles do not exist here: create them, or pass --no-owner)"
            raise CommandError(
                f"pg_restore failed (exit {result.returncode}); the target database is left as it "
                f"was (one transaction){hint}: {result.stderr.strip()}"
            )
        conn.execute("ANALYZE")  # planner statistics are not part of a dump
        return pg_table_counts(conn), audit_head(conn, sqlite=False)
    finally:
        conn.close()


def _replace_schema(
    pg_restore: str,
    psql: str,
    owner: list[str],
    conninfo: str,
    archive: Path,
    env: dict[str, str],
) -> subprocess.CompletedProcess[str]:
    """Drop and recreate the public schema, then run the archive's SQL, all in one transaction:
    ``pg_restore -f -`` streamed into ``psql`` between BEGIN and COMMIT.  psql stops at the first
    error (the transaction is then never committed); COMMIT is sent only after pg_restore has
    written the whole archive, so a damaged archive rolls back too."""
    import contextlib
    import tempfile

    with tempfile.TemporaryFile() as psql_err, tempfile.TemporaryFile() as restore_err:
        target = subprocess.Popen(
            [psql, "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", f"--dbname={conninfo}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_err,
            env=env,
        )
        source = subprocess.Popen(
            [pg_restore, *owner, "--file=-", str(archive)],
            stdout=subprocess.PIPE,
            stderr=restore_err,
            env=env,
        )
        assert target.stdin is not None and source.stdout is not None
        with contextlib.suppress(BrokenPipeError):  # psql stopped at an error: it says which
            # pg_partman's schema (issue 22) is recreated by the archive with its extension
            target.stdin.write(
                b"BEGIN;\nDROP SCHEMA IF EXISTS partman CASCADE;\n"
                b"DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n"
            )
            shutil.copyfileobj(source.stdout, target.stdin, 1 << 20)
        source.stdout.close()
        restored = source.wait()
        with contextlib.suppress(BrokenPipeError):
            target.stdin.write(b"COMMIT;\n" if restored == 0 else b"ROLLBACK;\n")
            target.stdin.close()
        code = restored or target.wait()
        target.wait()
        psql_err.seek(0)
        restore_err.seek(0)
        errors = (restore_err.read() + psql_err.read()).decode("utf-8", "replace")
    return subprocess.CompletedProcess([psql], code, "", errors)


def _restore_sqlite(
    src: Path, manifest: dict[str, Any], target: dict[str, Any], args: argparse.Namespace
) -> tuple[dict[str, int], dict[str, Any] | None]:
    path = Path(str(target["NAME"]))
    if str(path) in ("", ":memory:"):
        raise CommandError("restore into a SQLite file: --database-url sqlite:////path/to/file")
    if path.exists() and path.stat().st_size and not args.force:
        probe = sqlite3.connect(path)
        try:
            tables = sqlite_table_counts(probe)
        finally:
            probe.close()
        if tables:
            raise CommandError(
                f"target database {path} is not empty ({len(tables)} tables): restore into a new "
                "file, or pass --force to replace it"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{src / SQLITE_FILE}?mode=ro", uri=True)
    destination = sqlite3.connect(path)
    try:
        source.backup(destination)  # replaces the whole target file's content
        return sqlite_table_counts(destination), audit_head(destination, sqlite=True)
    finally:
        source.close()
        destination.close()


def _untar_media(archive: Path, root: Path) -> int:
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
        for m in members:
            name = Path(m.name)
            if name.is_absolute() or ".." in name.parts or not (m.isfile() or m.isdir()):
                raise CommandError(f"{archive.name}: refusing the member {m.name!r}")
        tar.extractall(root, members=members, filter="data")
    return sum(m.isfile() for m in members)
