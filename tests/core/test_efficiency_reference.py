"""Reference data of issue 16: limit lines, 标杆/基准 levels, surcharge rules, key-unit thresholds
(dualcontrol.reference.efficiency).  Every row has a source and validity dates (or says its date
is NOT FOUND); malformed data is refused with the file and row."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from dualcontrol.reference import ReferenceDataError, ReferenceTable, load_csv
from dualcontrol.reference import efficiency as ref


@pytest.fixture
def fake_limits(monkeypatch):
    """Swap efficiency_limits.csv rows for a test (the line cache is cleared around it)."""
    real = load_csv(ref.LIMITS_FILE)

    def install(rows):
        table = ReferenceTable(real.name, "fake@0", tuple(rows))
        monkeypatch.setattr(
            ref, "load_csv", lambda name, *a: table if name == ref.LIMITS_FILE else load_csv(name)
        )
        ref._all_limit_lines.cache_clear()

    yield real, install
    ref._all_limit_lines.cache_clear()


def test_every_limit_row_has_a_source_and_validity():
    table = load_csv(ref.LIMITS_FILE)
    for row in table.rows:
        assert row["source"]
        assert row["kind"] in {"line", "correction"}
        if not row["valid_from"]:
            assert "NOT FOUND" in row["caveat"] or row["kind"] == "correction"
    lines = ref.limit_lines()
    assert len(lines) == 53
    assert {ln.standard.code for ln in lines} == {
        "GB 21346-2013",
        "GB 21346-2022",
        "GB 16780-2021",
        "GB 21256-2025",
        "GB 21342-2025",
        "GB 21341-2022",
        "GB 29436-2023",
    }
    for ln in lines:
        assert ln.standard.source and ln.standard.version.startswith("efficiency_limits.csv@")
        assert ln.grade3 is not None and ln.unit and ln.product_name_zh and ln.indicator_name_zh
    # secondary values are flagged as such
    assert all("secondary" in ln.caveat for ln in lines if ln.standard.code != "GB 21346-2013")


def test_exact_values_from_the_reference():
    """Spot checks: GB 21346-2013 foreword; GB 16780-2021 and GB 29436-2023 (secondary)."""
    day = dt.date(2020, 1, 1)
    assert ref.limit_line("电解铝", "铝锭综合能源单耗", day).limits == (D(1660), D(1680), D(1760))
    assert ref.limit_line("电解铝", "铝液综合交流电耗", day).limits == (
        D(13050),
        D(13150),
        D(14050),
    )
    assert ref.limit_line("水泥熟料", "综合电耗").limits == (D(48), D(57), D(61))
    assert ref.limit_line("煤制乙二醇", "综合能耗").limits == (D(2450), D(2850), D(3100))
    assert ref.limit_line("高炉锰铁", "焦炭消耗").unit == "kg/t"
    on_2024 = ref.limit_lines(dt.date(2024, 1, 1))
    assert not any(ln.standard.code == "GB 21346-2013" for ln in on_2024)
    assert any(ln.standard.code == "GB 21346-2022" for ln in on_2024)


def test_corrections_attach_to_their_lines():
    cement = ref.limit_line("cement", "comprehensive_energy")
    (ratio,) = cement.corrections
    assert (ratio.name, ratio.coefficients, ratio.base, ratio.required) == (
        "clinker_ratio_pct",
        (D("1.10"), D("1.15"), D("1.20")),
        D(75),
        True,
    )
    (altitude,) = ref.limit_line("cement_clinker", "comprehensive_energy").corrections
    assert altitude.inputs() == ("pressure_pa", "altitude_m")
    assert altitude.condition_above == D(1500) and altitude.factor_b == D("0.211")
    for product in ("coke_top_charged", "coke_stamp_charged"):
        (wet,) = ref.limit_line(product, "energy").corrections
        assert wet.coefficients == (None, None, D("46.46"))


def test_benchmarks():
    (level,) = ref.benchmark_levels()
    assert (level.product, level.benchmark, level.baseline) == ("cement_clinker", D(100), D(117))
    assert level.source and "NOT FOUND" in level.caveat and level.valid_from is None
    assert ref.benchmark_level("electrolytic_aluminium", "molten_al_ac_power") is None


def test_surcharge_rules():
    rules = {r.rule_id: r for r in ref.surcharge_rules()}
    assert set(rules) == {
        "al_tiered_2014",
        "al_tiered_2022",
        "punitive_anhui_2010",
        "punitive_shaanxi_2010",
        "punitive_guizhou_2010",
    }
    for rule in rules.values():
        assert rule.source and rule.title and rule.valid_from_year >= 2010
        assert rule.version.startswith("electricity_surcharges.yaml@")
    al = rules["al_tiered_2014"]
    assert (al.valid_from_year, al.valid_to_year) == (2014, 2021)
    assert [(t.upper, t.surcharge_yuan_per_kwh) for t in al.tiers] == [
        (D(13700), D(0)),
        (D(13800), D("0.02")),
        (None, D("0.08")),
    ]
    assert [r.rule_id for r in ref.surcharge_rules("340000")] == [
        "al_tiered_2014",
        "al_tiered_2022",
        "punitive_anhui_2010",
    ]


def test_designation_thresholds():
    sets = {s.rule_id: s for s in ref.designation_thresholds()}
    assert set(sets) == {"national_2018", "zhejiang_2017"}
    national = sets["national_2018"]
    assert national.valid_from == dt.date(2018, 5, 1) and national.source
    assert [(t.min_tce, t.max_tce) for t in national.tiers] == [
        (D(10000), None),
        (D(5000), D(10000)),
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"grade1": "99999"}, "grades must run"),
        ({"grade3": ""}, "grade3"),
        ({"grade2": "abc"}, "not a number"),
        ({"kind": "other"}, "kind must be"),
        ({"valid_from": "2024-13-01"}, "ISO date"),
        ({"lower_is_better": "maybe"}, "yes/no"),
        ({"standard_title": "another title"}, "another title"),
    ],
)
def test_malformed_limit_rows_name_file_and_row(fake_limits, change, message):
    real, install = fake_limits
    rows = [dict(r) for r in real.rows]
    rows[1].update(change)
    install(rows)
    with pytest.raises(ReferenceDataError, match=message) as info:
        ref.limit_lines()
    assert ref.LIMITS_FILE in str(info.value)


def test_orphan_correction_and_duplicate_line(fake_limits):
    real, install = fake_limits
    rows = [dict(r) for r in real.rows]
    orphan = next(dict(r) for r in rows if r["kind"] == "correction")
    orphan["product"] = "nothing"
    install([*rows, orphan])
    with pytest.raises(ReferenceDataError, match="without a line"):
        ref.limit_lines()
    install([*rows, dict(rows[0])])
    with pytest.raises(ReferenceDataError, match="given twice"):
        ref.limit_lines()


def test_malformed_surcharge_rules(monkeypatch):
    version, data = ref.load_yaml(ref.SURCHARGES_FILE)
    broken = {"rules": [dict(data["rules"][0], tiers=list(reversed(data["rules"][0]["tiers"])))]}
    monkeypatch.setattr(ref, "load_yaml", lambda name: (version, broken))
    with pytest.raises(ReferenceDataError, match="open-ended"):
        ref.surcharge_rules()
    stepped = dict(data["rules"][1], thresholds=data["rules"][1]["thresholds"][1:])
    monkeypatch.setattr(ref, "load_yaml", lambda name: (version, {"rules": [stepped]}))
    with pytest.raises(ReferenceDataError, match="2022 needs exactly one threshold"):
        ref.surcharge_rules()
