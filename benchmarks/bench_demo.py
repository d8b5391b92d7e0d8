"""The demo province, built from nothing as ``make demo`` does: total time, each app's part, memory.

Runs ``dualcontrol demo`` (without serving) in a child process on a fresh temporary data
directory with the embedded SQLite database, then reads the seconds each app's
``extend_demo`` took from the ``demo.build`` audit entry. Goal: a fresh machine shows the
platform within a few minutes; no single part should dominate.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="bench-demo-")
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.update({"DUALCONTROL_ENV": "demo", "DUALCONTROL_DATA_DIR": tmp, "PYTHONUNBUFFERED": "1"})
    exe = Path(sys.executable).with_name("dualcontrol")
    started = time.perf_counter()
    subprocess.run([str(exe), "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    total = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    databases = sorted(Path(tmp).glob("*.sqlite3"))
    seconds: dict[str, float] = {}
    if databases:
        with sqlite3.connect(databases[0]) as conn:
            row = conn.execute(
                "SELECT after FROM audit_auditentry WHERE action = 'demo.build' "
                "ORDER BY id DESC LIMIT 1"
            ).fetchone()
        if row:
            seconds = json.loads(row[0]).get("extension_seconds", {})
    print(f"demo build: {total:.1f} s wall, peak RSS {peak_mb:.0f} MB (data dir {tmp})")
    for app, s in sorted(seconds.items(), key=lambda kv: -kv[1]):
        print(f"  {app:<28} {s:8.1f} s")
    if seconds:
        print(f"  {'builder (units, reports)':<28} {total - sum(seconds.values()):8.1f} s")


if __name__ == "__main__":
    main()
