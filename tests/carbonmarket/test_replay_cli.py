"""``dualcontrol ledger replay FILE.jsonl --format json``: the interface others script against."""

from __future__ import annotations

import json
import subprocess
import sys

from dualcontrol.cli import main

LINES = [
    {"type": "open", "account": "GOV", "kind": "government"},
    {"type": "open", "account": "A", "kind": "holding"},
    {"type": "open", "account": "B", "kind": "holding"},
    {"type": "issue", "to": "GOV", "unit_type": "CEA", "vintage": 2025, "amount": 1000},
    {
        "type": "allocate",
        "from": "GOV",
        "to": "A",
        "unit_type": "CEA",
        "vintage": 2025,
        "amount": 600,
        "requested_by": "u1",
        "approved_by": "u2",
    },
    {
        "type": "transfer",
        "from": "A",
        "to": "B",
        "unit_type": "CEA",
        "vintage": 2025,
        "amount": 100,
        "requested_by": "u1",
        "approved_by": "u1",
    },
    {
        "type": "transfer",
        "from": "A",
        "to": "B",
        "unit_type": "CEA",
        "vintage": 2025,
        "amount": 100,
        "requested_by": "u1",
        "approved_by": "u2",
    },
    {"type": "obligation", "account": "A", "year": 2025, "amount": 550},
    {
        "type": "surrender",
        "from": "A",
        "year": 2025,
        "unit_type": "CEA",
        "vintage": 2025,
        "amount": 500,
    },
    {"type": "cancel", "from": "B", "unit_type": "CEA", "vintage": 2025, "amount": 10},
]


def test_replay_prints_the_documented_shape(tmp_path, capsys):
    f = tmp_path / "tx.jsonl"
    f.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in LINES), encoding="utf-8")
    assert main(["ledger", "replay", str(f), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"transactions", "balances", "compliance"}
    statuses = [(t["line"], t["status"]) for t in out["transactions"]]
    assert statuses[5] == (6, "refused")
    assert all(s == "applied" for n, s in statuses if n != 6)
    assert "other than its requester" in out["transactions"][5]["reason"]
    assert out["balances"] == {
        "GOV": {"CEA": 400, "CCER": 0},
        "A": {"CEA": 0, "CCER": 0},
        "B": {"CEA": 90, "CCER": 0},
    }
    assert out["compliance"] == {
        "A": {"2025": {"obligation": 550, "surrendered": 500, "shortfall": 50, "status": "short"}}
    }


def test_replay_reads_gb18030_and_runs_without_django(tmp_path):
    f = tmp_path / "tx.jsonl"
    lines = [
        {"type": "open", "account": "甲", "kind": "holding", "owner": "云南某电厂"},
        {"type": "open", "account": "省", "kind": "government"},
    ]
    f.write_bytes("\n".join(json.dumps(x, ensure_ascii=False) for x in lines).encode("gb18030"))
    code = (
        "import sys, json; from dualcontrol.cli import main; rc = main(['ledger', 'replay', "
        f"{str(f)!r}]); assert 'django.db' not in sys.modules, 'imported Django'; sys.exit(rc)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["balances"] == {"甲": {"CEA": 0, "CCER": 0}, "省": {"CEA": 0, "CCER": 0}}


def test_a_missing_file_is_a_clear_error(tmp_path, capsys):
    assert main(["ledger", "replay", str(tmp_path / "none.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
