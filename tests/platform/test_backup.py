"""A backup restores (issue 23): ``dualcontrol backup`` of a small province with a filed report and
an uploaded file, ``dualcontrol restore`` into a fresh database, then a smoke test of the restored
copy — row counts of the key tables, a user's password, the audit entries, the uploaded file.

The suite's own database decides the variant: SQLite (always, without services) or PostgreSQL
(``DATABASE_URL``; a temporary database is created for the restore and dropped afterwards).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import sqlite3
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.db import connection

from dualcontrol.accounts.models import Role, User
from dualcontrol.audit.models import AuditEntry
from dualcontrol.cli import CommandError, main
from dualcontrol.commands import backup as bk
from dualcontrol.entities.models import Entity
from dualcontrol.regions.models import Division
from dualcontrol.reporting import services
from dualcontrol.reporting.models import EnergyReport, ReportLine
from tests.factories import PASSWORD, coal_row, power_row

PG = connection.vendor == "postgresql"
KEY_TABLES = {
    "accounts_user": User,
    "regions_division": Division,
    "entities_entity": Entity,
    "reporting_energyreport": EnergyReport,
    "reporting_reportline": ReportLine,
    "audit_auditentry": AuditEntry,
}
Query = Callable[[str], list[tuple[Any, ...]]]


@pytest.fixture
def province(transactional_db, settings):
    """world() plus a filed (submitted) report and an uploaded file; committed, as pg_dump sees."""
    from tests.factories import world

    w = world()
    report = services.save_report(
        entity=w.unit,
        period_type="monthly",
        year=2026,
        month=10,
        rows=[coal_row(), power_row()],
        user=w.users[Role.ENTERPRISE],
        submit=True,
    )
    upload = Path(settings.MEDIA_ROOT) / "evidence/2026/证明材料.pdf"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"%PDF-1.4 test evidence\n")
    return w, report, upload


def _run(*argv: str, capsys) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def target(tmp_path) -> Iterator[tuple[str, Query]]:
    """A fresh, empty database to restore into: its URL and a query function."""
    if not PG:
        path = tmp_path / "restored.sqlite3"

        def query_sqlite(sql: str) -> list[tuple[Any, ...]]:
            con = sqlite3.connect(path)
            try:
                return con.execute(sql).fetchall()
            finally:
                con.close()

        yield f"sqlite:///{path}", query_sqlite
        return
    import psycopg

    params = bk.pg_params(connection.settings_dict)
    name = f"dualcontrol_restore_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(**{**params, "dbname": "postgres"}, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    url = f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"

    def query_pg(sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(**{**params, "dbname": name}) as con:
            return con.execute(sql).fetchall()

    try:
        yield url, query_pg
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_backup_restores_into_a_fresh_database(province, target, tmp_path, capsys):
    _, report, upload = province
    url, query = target
    # a monthly metering partition (PostgreSQL): its inherited key made `--force` fail once
    from dualcontrol.metering import storage

    storage.ensure_partitions([dt.date(2026, 11, 1)])
    dest = tmp_path / "backups/2026-12-05"
    code, out, err = _run("backup", str(dest), capsys=capsys)
    assert code == 0, err
    assert f"backup written to {dest}" in out

    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["engine"] == ("postgresql" if PG else "sqlite")
    db_file = "database.dump" if PG else "database.sqlite3"
    assert set(manifest["files"]) == {db_file, "media.tar.gz"}
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == bk.sha256_of(dest / name)
        assert entry["bytes"] == (dest / name).stat().st_size
    for table, model in KEY_TABLES.items():
        assert manifest["tables"][table] == model.objects.count() > 0, table
    assert manifest["media"]["files"] == 1
    newest = AuditEntry.objects.order_by("-id").first()
    assert manifest["audit_head"] == {"id": newest.pk, "entry_hash": newest.entry_hash}
    assert "0001_initial" in manifest["migrations"]["accounts"]
    if PG:
        assert manifest["database"]["tool"].startswith("pg_dump ")

    media = tmp_path / "restored-media"
    code, out, err = _run(
        "restore", str(dest), "--database-url", url, "--media-root", str(media), capsys=capsys
    )
    assert code == 0, err
    assert "every row count and the newest audit entry as in the manifest" in out

    # smoke test of the restored copy, straight from its database
    for table, model in KEY_TABLES.items():
        assert query(f"SELECT count(*) FROM {table}")[0][0] == model.objects.count(), table
    [(encoded, active)] = query(
        "SELECT password, is_active FROM accounts_user WHERE username = 'ent1'"
    )
    assert active and check_password(PASSWORD, encoded)  # the user can log in
    assert not check_password("wrong-" + PASSWORD, encoded)
    restored_audit = query(
        "SELECT id, action, actor_name, object_id FROM audit_auditentry ORDER BY id"
    )
    original = list(
        AuditEntry.objects.order_by("id").values_list("id", "action", "actor_name", "object_id")
    )
    assert [tuple(r) for r in restored_audit] == original
    assert any(a == "report.save" and o == str(report.pk) for _, a, _, o in restored_audit)
    [(status, tce)] = query(
        f"SELECT status, energy_tce FROM reporting_energyreport WHERE id = {report.pk}"
    )
    assert status == report.status and float(tce) == float(report.energy_tce)
    assert (media / "evidence/2026/证明材料.pdf").read_bytes() == upload.read_bytes()

    # a second restore into the same (now full) database is refused, the files untouched
    code, _, err = _run("restore", str(dest), "--database-url", url, capsys=capsys)
    assert code == 2 and "not empty" in err and "--force" in err
    code, out, err = _run(
        "restore",
        str(dest),
        "--database-url",
        url,
        "--media-root",
        str(media),
        "--force",
        capsys=capsys,
    )
    assert code == 0, err
    assert query("SELECT count(*) FROM accounts_user")[0][0] == User.objects.count()

    # the check after the restore is real: a manifest that promises another count is reported
    users = User.objects.count()
    manifest["tables"]["accounts_user"] = users + 1
    (dest / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = _run(
        "restore",
        str(dest),
        "--database-url",
        url,
        "--media-root",
        str(media),
        "--force",
        capsys=capsys,
    )
    assert code == 2 and "does not match the backup" in err
    assert f"table accounts_user: {users + 1} rows in the backup, {users} after the restore" in err


def test_a_damaged_backup_is_refused_before_anything_is_written(province, target, tmp_path, capsys):
    url, query = target
    dest = tmp_path / "bk"
    assert _run("backup", str(dest), capsys=capsys)[0] == 0
    db_file = dest / ("database.dump" if PG else "database.sqlite3")
    data = bytearray(db_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    db_file.write_bytes(bytes(data))
    (dest / "media.tar.gz").unlink()
    media = tmp_path / "restored-media"
    code, _, err = _run(
        "restore", str(dest), "--database-url", url, "--media-root", str(media), capsys=capsys
    )
    assert code == 2
    assert "fails verification; nothing was restored" in err
    assert f"{db_file.name}: SHA-256 differs" in err and "media.tar.gz: missing" in err
    assert not media.exists()
    if PG:
        assert query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]
    else:
        assert not Path(url.removeprefix("sqlite:///")).exists()


def test_backup_into_a_used_directory_is_refused(province, tmp_path, capsys):
    dest = tmp_path / "bk"
    dest.mkdir()
    (dest / "other.txt").write_text("x")
    code, _, err = _run("backup", str(dest), capsys=capsys)
    assert code == 2 and "not an empty directory" in err
    assert sorted(p.name for p in dest.iterdir()) == ["other.txt"]


@pytest.mark.skipif(not PG, reason="pg_dump: needs DATABASE_URL pointing at PostgreSQL")
def test_a_failed_backup_leaves_nothing_behind(province, tmp_path, capsys):
    dest = tmp_path / "bk"
    code, _, err = _run("backup", str(dest), "--pg-bin", str(tmp_path / "nowhere"), capsys=capsys)
    assert code == 2 and "pg_dump not found" in err
    assert list(tmp_path.glob("*bk*")) == []


# --- pure checks ---------------------------------------------------------------------------


def test_version_mismatches_say_what_to_install():
    bk.check_dump_version(15, 15)
    bk.check_dump_version(14, 16)
    with pytest.raises(CommandError, match=r"pg_dump 15 cannot dump a PostgreSQL 16 server") as e:
        bk.check_dump_version(16, 15)
    assert "postgresql-client-16" in str(e.value) and "/usr/lib/postgresql/16/bin" in str(e.value)
    bk.check_restore_version(15, 16)
    with pytest.raises(CommandError, match="pg_restore 15 cannot read it"):
        bk.check_restore_version(17, 15)


def test_a_directory_without_manifest_is_not_a_backup(tmp_path):
    with pytest.raises(CommandError, match=r"no manifest\.json"):
        bk.verify_backup(tmp_path)
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "format": 1,
                "database": {"file": "database.dump"},
                "files": {"../etc/passwd": {"bytes": 1, "sha256": "0"}},
            }
        )
    )
    with pytest.raises(CommandError) as e:
        bk.verify_backup(tmp_path)
    message = str(e.value)
    assert "database.dump: not listed" in message and "media.tar.gz: not listed" in message
    assert "../etc/passwd: not a plain file name" in message


def test_media_archive_members_cannot_escape(tmp_path):
    archive = tmp_path / "media.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(CommandError, match="refusing the member"):
        bk._untar_media(archive, tmp_path / "media")
    assert not (tmp_path / "outside.txt").exists()


def test_connection_parameters_keep_ssl_options_and_drop_djangos_own():
    params = bk.pg_params(
        {
            "NAME": "dc",
            "USER": "app",
            "PASSWORD": "s3cret",
            "HOST": "db.internal",
            "PORT": 5432,
            "OPTIONS": {"sslmode": "verify-full", "pool": True, "server_side_binding": False},
        }
    )
    assert params == {
        "dbname": "dc",
        "user": "app",
        "password": "s3cret",
        "host": "db.internal",
        "port": "5432",
        "sslmode": "verify-full",
    }


def test_the_commands_are_registered():
    from dualcontrol.cli import build_parser, subcommands

    commands = subcommands(build_parser())
    assert {"backup", "restore"} <= set(commands)
    args = commands["restore"].parse_args(["x", "--database-url", "sqlite:///y"])
    assert isinstance(args, argparse.Namespace) and args.force is False
