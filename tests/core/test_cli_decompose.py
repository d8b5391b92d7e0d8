"""``dualcontrol decompose`` on the sample province (tests/data/decomposition, fictional figures).

Check identities and sources: see test_decomposition.py.
"""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction as F
from pathlib import Path
from typing import Any

import pytest

from dualcontrol.cli import main

DATA = Path(__file__).resolve().parent.parent / "data" / "decomposition"
SAMPLE = str(DATA / "province.csv")
TIERS = str(DATA / "tiers.yaml")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["decompose", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def sample_rows() -> list[dict[str, str]]:
    with open(SAMPLE, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def expected_check(targets_pct: dict[str, F], province_pct: F) -> dict[str, F]:
    """The consistency figures recomputed here from the sample, exactly."""
    rows = sample_rows()
    e0 = sum(F(r["base_energy_tce"]) for r in rows)
    g0 = sum(F(r["base_gdp_10k_yuan"]) for r in rows)
    g1 = sum(F(r["base_gdp_10k_yuan"]) * (1 + F(r["gdp_growth_pct"]) / 100) for r in rows)
    e1 = sum(
        F(r["base_energy_tce"])
        * (1 + F(r["gdp_growth_pct"]) / 100)
        * (1 - targets_pct[r["region"]] / 100)
        for r in rows
    )
    allowed = e0 / g0 * (1 - province_pct / 100) * g1
    return {"e0": e0, "g1": g1, "e1": e1, "slack_tce": allowed - e1,
            "implied_pct": (1 - e1 / g1 / (e0 / g0)) * 100}  # fmt: skip


def close(value: float, exact: F, places: int) -> bool:
    return abs(F(value) - exact) <= F(1, 2 * 10**places)


def test_manual_json_with_total_cap(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "--method", "manual", "--input", SAMPLE, "--province-target-pct", "16",
        "--total-cap-tce", "100000000", "--reserve-tce", "1500000", "--format", "json",
    )  # fmt: skip
    assert code == 0
    data: dict[str, Any] = json.loads(out)
    assert data["method"] == "manual" and data["scheme"] is None
    targets = {r["region"]: F(r["target_pct"]) for r in sample_rows()}
    assert {r["region"]: F(r["target_pct"]) for r in data["regions"]} == targets
    first = data["regions"][0]
    assert (first["region"], first["end_energy_tce"], first["increment_tce"]) == (
        "东湖市",
        24272000,  # 18,500,000 × 1.6 × 0.82
        5772000,
    )
    exp = expected_check(targets, F(16))
    ic = data["intensity_check"]
    assert ic["base_energy_tce"] == 75000000 and ic["end_gdp_10k_yuan"] == 153281000
    assert ic["regional_end_energy_tce"] == exp["e1"] == 97059400
    assert close(ic["slack_tce"], exp["slack_tce"], 2)
    assert close(ic["implied_reduction_pct"], exp["implied_pct"], 6)
    assert close(ic["slack_pp"], exp["implied_pct"] - 16, 6)
    assert ic["consistent"] is True
    tc = data["total_check"]
    # increment cap = 100,000,000 − 75,000,000; Σ increments = 97,059,400 − 75,000,000
    assert (tc["total_cap_tce"], tc["increment_cap_tce"], tc["increments_tce"]) == (
        100000000,
        25000000,
        22059400,
    )
    assert tc["slack_tce"] == 25000000 - 1500000 - 22059400
    assert tc["consistent"] is True


def test_tiered_with_a_tier_file_matches_the_manual_targets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys, "--method", "tiered", "--input", SAMPLE, "--province-target-pct", "16",
        "--tiers", TIERS, "--format", "json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["scheme"] == "sample-province-tiers"
    assert data["scheme_version"].startswith("tiers.yaml@")
    by_region = {r["region"]: (r["tier"], r["target_pct"]) for r in data["regions"]}
    assert by_region["东湖市"] == ("A", 18) and by_region["白沙市"] == ("E", 12)
    assert data["total_check"] is None


def test_weighted_csv_has_regions_then_checks(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "--method", "weighted", "--input", SAMPLE, "--province-target-pct", "16",
        "--format", "csv",
    )  # fmt: skip
    assert code == 0
    regions_part, checks_part = out.split("\n\n")
    regions = list(csv.DictReader(io.StringIO(regions_part)))
    assert len(regions) == 8 and "score" in regions[0]
    checks = dict(csv.reader(io.StringIO(checks_part)))
    assert checks["check"] == "value"
    assert checks["intensity.implied_reduction_pct"] == "16"
    assert checks["intensity.slack_pp"] == "0"
    assert checks["intensity.slack_tce"] == "0"
    assert checks["intensity.consistent"] == "true"


def test_efficiency_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "--method", "efficiency", "--input", SAMPLE, "--province-target-pct", "16",
        "--increment-cap-tce", "26500000", "--reserve-tce", "1500000",
    )  # fmt: skip
    assert code == 0
    assert out.startswith("method: efficiency (default-efficiency, ")
    assert "slack 0 pp, 0 tce -> consistent" in out
    assert "vs increment cap 26500000 tce" in out
    assert "东湖市" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--method", "manual", "--province-target-pct", "0"], "between 0 and 100"),
        (["--method", "manual", "--province-target-pct", "16", "--reserve-tce", "1"],
         "--reserve-tce needs --total-cap-tce or --increment-cap-tce"),
        (["--method", "tiered", "--province-target-pct", "16"],
         "region 东湖市: unknown tier 'A'; scheme national-12th-fyp has t18"),
        (["--method", "tiered", "--province-target-pct", "16", "--tiers", "nope"],
         "unknown tiers preset 'nope'"),
        (["--method", "efficiency", "--province-target-pct", "16", "--total-cap-tce", "80000000"],
         "exceed the increment cap"),
    ],
)  # fmt: skip
def test_operator_errors(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run(capsys, "--input", SAMPLE, *argv)
    assert code == 2 and out == ""
    assert err.startswith("dualcontrol decompose: error:")
    assert message in err


def test_efficiency_file_and_infeasible_bounds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "eff.yaml"
    p.write_text(
        "kind: efficiency\nname: tight\nsource: test\npotential: intensity_vs_province_ratio\n"
        "min_frac_of_province_target: 0\nmax_frac_of_province_target: 0.5\n",
        encoding="utf-8",
    )
    code, _, err = run(
        capsys, "--method", "efficiency", "--input", SAMPLE, "--province-target-pct", "16",
        "--efficiency", str(p),
    )  # fmt: skip
    assert code == 2
    assert "infeasible: even with every region at its upper bound" in err


@pytest.mark.parametrize(
    ("text", "method", "message"),
    [
        (
            "region,base_energy_tce,base_gdp_10k_yuan,gdp_growth_pct,target_pct\n"
            "A,100,100,50,16\nB,1OO,100,50,16\n",
            "manual",
            "line 3 (region B): base_energy_tce '1OO' is not a number",
        ),
        (
            "region,base_energy_tce,base_gdp_10k_yuan,gdp_growth_pct,target_pct\nA,0,100,50,16\n",
            "manual",
            "line 2 (region A): region A: base_energy_tce must be > 0",
        ),
        (
            "region,base_energy_tce,base_gdp_10k_yuan,target_pct\nA,100,100,16\n",
            "manual",
            "missing column(s): gdp_growth_pct",
        ),
        (
            "region,base_energy_tce,base_gdp_10k_yuan,gdp_growth_pct\nA,100,100,50\n",
            "weighted",
            "missing column(s): gdp_per_capita_yuan, secondary_share_pct",
        ),
        (
            "region,base_energy_tce,base_gdp_10k_yuan,gdp_growth_pct,target_pct\nA,100,100,50,\n",
            "manual",
            "region A: no target given (target_pct)",
        ),
        ("region,base_energy_tce,base_gdp_10k_yuan,gdp_growth_pct\n", "manual", "no regions"),
    ],
)
def test_bad_rows_name_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, method: str, message: str
) -> None:
    p = tmp_path / "in.csv"
    p.write_text(text, encoding="utf-8")
    code, _, err = run(capsys, "--method", method, "--input", str(p), "--province-target-pct", "16")
    assert code == 2
    assert message in err


def test_help_documents_the_input_columns(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["decompose", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for column in ("base_energy_tce", "base_gdp_10k_yuan", "gdp_growth_pct", "target_pct", "tier"):
        assert column in out
    assert "national-12th-fyp" in out


def test_unknown_method_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["decompose", "--method", "lottery", "--input", SAMPLE, "--province-target-pct", "16"])
    assert exc.value.code == 2
