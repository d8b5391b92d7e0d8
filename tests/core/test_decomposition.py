"""Target decomposition (目标分解) and the aggregate-consistency check — specifications.

Sources:
- Intensity = energy (tce) / GDP (10,000 yuan) at comparable prices; a reduction over a period uses
  real GDP growth (shared/reference/02_progress_rules.md).
- National 12th-FYP tiers (NDRC official via Xinhua 2011-09-14, shared/reference/01_targets_12th.md):
  18 % (5), 17 % (4), 16 % (12), 15 % (6), 10 % (4) = 31 provinces; national target −16 %; targets set
  “综合考虑经济发展水平、产业结构、节能潜力、环境容量及国家产业布局等因素”.
- Separately accounted major projects (能耗单列) and increment caps (02_progress_rules.md, 14th FYP).

Check identities (exact rationals): E1_i = E0_i (1 + g_i)(1 − r_i); implied reduction
1 − (ΣE1/ΣG1)/(ΣE0/ΣG0); slack_tce = (ΣE0/ΣG0)(1 − R)ΣG1 − ΣE1; total slack = cap − reserve − ΣΔ.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualcontrol.core.decomposition import (
    DecompositionError,
    EfficiencyScheme,
    Factor,
    FactorDirection,
    Method,
    RegionInput,
    Tier,
    TierScheme,
    TotalCap,
    WeightScheme,
    allocate_efficiency,
    allocate_manual,
    allocate_tiered,
    allocate_weighted,
    check_intensity,
    check_total,
    composite_scores,
    decompose,
)
from dualcontrol.reference import ReferenceDataError
from dualcontrol.reference.decomposition import (
    available_presets,
    efficiency_scheme,
    tier_scheme,
    tier_scheme_from_mapping,
    weight_scheme,
    weight_scheme_from_mapping,
)


def region(name: str, e0: int | F, g0: int | F, growth: F, **kw: object) -> RegionInput:
    return RegionInput(name, F(e0), F(g0), growth, **kw)  # type: ignore[arg-type]


# Hand example: A grows fast with low intensity, B slowly with high intensity.
A = region("A", 100, 100, F(1, 2), manual_target_frac=F(1, 5))
B = region("B", 300, 100, F(1, 5), manual_target_frac=F(1, 10))


# ---------------------------------------------------------------------------------------------
# the consistency check


def test_intensity_check_hand_example() -> None:
    # E1 = 100·1.5·0.8 + 300·1.2·0.9 = 120 + 324 = 444; G1 = 150 + 120 = 270; I0 = 400/200 = 2
    c = check_intensity([A, B], [F(1, 5), F(1, 10)], F(16, 100))
    assert c.base_intensity_tce_per_10k_yuan == 2
    assert c.end_gdp_10k_yuan == 270
    assert c.regional_end_energy_tce == 444
    assert c.allowed_end_energy_tce == F("453.6")  # 2 · 0.84 · 270
    assert c.implied_reduction_frac == F(8, 45)  # 1 − (444/270)/2
    assert c.slack_frac == F(8, 45) - F(16, 100)  # = 4/225 → 1.777… pp
    assert c.slack_frac * 100 == F(16, 9)
    assert c.slack_tce == F("9.6")
    assert c.consistent


def test_uniform_targets_do_not_deliver_the_same_provincial_target_when_growth_differs() -> None:
    """Structure effect: the low-intensity region A grows faster, so 16 % everywhere over-delivers."""
    c = check_intensity([A, B], [F(16, 100)] * 2, F(16, 100))
    assert c.implied_reduction_frac == 1 - (150 * F(84, 100) + 360 * F(84, 100)) / 270 / 2
    assert c.slack_frac > 0


def test_uniform_growth_and_uniform_target_deliver_exactly() -> None:
    regions = [region("A", 100, 100, F(1, 2)), region("B", 300, 50, F(1, 2))]
    c = check_intensity(regions, [F(16, 100)] * 2, F(16, 100))
    assert c.implied_reduction_frac == F(16, 100)
    assert c.slack_frac == 0 and c.slack_tce == 0 and c.consistent


def test_a_shortfall_is_inconsistent() -> None:
    c = check_intensity([A, B], [F(1, 10), F(1, 10)], F(16, 100))
    assert c.slack_tce < 0 and c.slack_frac < 0 and not c.consistent


@pytest.mark.parametrize(
    ("cap", "slack", "consistent"),
    [
        (F(50), F(1), True),
        (F(49), F(0), True),  # Σ increments + reserve exactly at the cap: “must not exceed”
        (F("48.99"), F("-0.01"), False),
    ],
)
def test_total_check_boundaries(cap: F, slack: F, consistent: bool) -> None:
    # implied increments: A 120 − 100 = 20, B 324 − 300 = 24; reserve 5 → 49
    t = check_total([A, B], [F(1, 5), F(1, 10)], TotalCap(cap, F(5)))
    assert t.increments_tce == 44
    assert t.slack_tce == slack
    assert t.consistent is consistent


def test_total_check_uses_allocated_increments_when_given() -> None:
    a = region("A", 100, 100, F(1, 2), increment_tce=F(10))
    t = check_total([a, B], [F(1, 5), F(1, 10)], TotalCap(F(50), F(0)))
    assert t.increments_tce == 10 + 24


# ---------------------------------------------------------------------------------------------
# manual and tiered


def test_manual() -> None:
    alloc = allocate_manual([A, B], F(16, 100), TotalCap(F(50), F(5)))
    assert alloc.method is Method.MANUAL
    assert [t.target_frac for t in alloc.targets] == [F(1, 5), F(1, 10)]
    assert [t.end_energy_tce for t in alloc.targets] == [120, 324]
    assert [(t.increment_tce, t.increment_source) for t in alloc.targets] == [
        (20, "implied"),
        (24, "implied"),
    ]
    assert alloc.intensity_check.slack_tce == F("9.6")
    assert alloc.total_check is not None and alloc.total_check.slack_tce == 1


def test_manual_needs_every_target() -> None:
    with pytest.raises(DecompositionError, match="region C: no target given"):
        allocate_manual([A, region("C", 1, 1, F(0))], F(16, 100))


def test_duplicate_regions_and_bad_targets() -> None:
    with pytest.raises(DecompositionError, match="listed twice: A"):
        allocate_manual([A, A], F(16, 100))
    with pytest.raises(DecompositionError, match="between 0 and 100"):
        allocate_manual([A, B], F(0))
    with pytest.raises(DecompositionError, match="base_energy_tce must be > 0"):
        region("Z", 0, 1, F(0))


NATIONAL_12TH = {  # shared/reference/01_targets_12th_energy_intensity.csv
    "北京": 17, "天津": 18, "河北": 17, "山西": 16, "内蒙古": 15, "辽宁": 17, "吉林": 16, "黑龙江": 16,
    "上海": 18, "江苏": 18, "浙江": 18, "安徽": 16, "福建": 16, "江西": 16, "山东": 17, "河南": 16,
    "湖北": 16, "湖南": 16, "广东": 18, "广西": 15, "海南": 10, "重庆": 16, "四川": 16, "贵州": 15,
    "云南": 15, "西藏": 10, "陕西": 16, "甘肃": 15, "青海": 10, "宁夏": 15, "新疆": 10,
}  # fmt: skip


def test_national_12th_fyp_tier_preset() -> None:
    scheme = tier_scheme()  # the default tier preset
    assert scheme.name == "national-12th-fyp"
    assert scheme.version.startswith("decomposition_tiers_national_12th_fyp.yaml@")
    assert [(t.reduction_frac * 100, len(t.members)) for t in scheme.tiers] == [
        (18, 5),
        (17, 4),
        (16, 12),
        (15, 6),
        (10, 4),
    ]
    by_member = {m: int(t.reduction_frac * 100) for t in scheme.tiers for m in t.members}
    assert by_member == NATIONAL_12TH


def test_tiered_by_membership_and_by_column() -> None:
    scheme = tier_scheme("national-12th-fyp")
    regions = [
        region("北京", 100, 100, F(1, 2)),
        region("海南", 100, 100, F(1, 2)),
        region("某市", 100, 100, F(1, 2), tier="t18"),
        region("广东", 100, 100, F(1, 2), tier="t10"),  # the column wins over membership
    ]
    alloc = allocate_tiered(regions, F(16, 100), scheme)
    assert [(t.tier, t.target_frac) for t in alloc.targets] == [
        ("t17", F(17, 100)),
        ("t10", F(10, 100)),
        ("t18", F(18, 100)),
        ("t10", F(10, 100)),
    ]
    # equal regions: implied = mean target (17 + 10 + 18 + 10)/4 = 13.75 % → short of 16 %
    assert alloc.intensity_check.implied_reduction_frac == F(1375, 10000)
    assert not alloc.intensity_check.consistent
    assert alloc.scheme_name == "national-12th-fyp"


def test_tiered_errors() -> None:
    scheme = TierScheme("s", "v", "src", (Tier("x", "x", F(1, 10)),))
    with pytest.raises(DecompositionError, match="region A: unknown tier 'y'"):
        allocate_tiered([region("A", 1, 1, F(0), tier="y")], F(1, 10), scheme)
    with pytest.raises(DecompositionError, match="region A: no tier given"):
        allocate_tiered([region("A", 1, 1, F(0))], F(1, 10), scheme)


def test_tier_yaml_validation() -> None:
    base = {
        "kind": "tiers",
        "name": "t",
        "source": "s",
        "tiers": [{"id": "a", "reduction_pct": 10}],
    }
    assert tier_scheme_from_mapping(base, version="v").tiers[0].reduction_frac == F(1, 10)
    bad = {**base, "tiers": [{"id": "a", "reduction_pct": 100}]}
    with pytest.raises(ReferenceDataError, match=r"reduction_pct must be in \[0, 100\)"):
        tier_scheme_from_mapping(bad, version="v")
    dup = {**base, "tiers": [{"id": "a", "reduction_pct": 1, "members": ["X"]},
                             {"id": "b", "reduction_pct": 2, "members": ["X"]}]}  # fmt: skip
    with pytest.raises(ReferenceDataError, match="X is also in tier a"):
        tier_scheme_from_mapping(dup, version="v")
    with pytest.raises(ReferenceDataError, match="kind is 'weights'"):
        tier_scheme_from_mapping({**base, "kind": "weights"}, version="v")


# ---------------------------------------------------------------------------------------------
# weighted

FIVE = [
    region("甲", 500, 1000, F(6, 10), factors={"gdp_pc": F(90000), "env": F(3)}),
    region("乙", 800, 600, F(4, 10), factors={"gdp_pc": F(40000), "env": F(8)}),
    region("丙", 300, 400, F(5, 10), factors={"gdp_pc": F(60000), "env": F(5)}),
    region("丁", 200, 150, F(45, 100), factors={"gdp_pc": F(30000), "env": F(9)}),
    region("戊", 100, 200, F(55, 100), factors={"gdp_pc": F(70000), "env": F(4)}),
]
WEIGHTS = WeightScheme(
    "w",
    "v",
    "src",
    (
        Factor("gdp_pc", "人均GDP", FactorDirection.HIGHER_MORE, F(1, 2)),
        Factor("intensity_vs_province_ratio", "节能潜力", FactorDirection.HIGHER_MORE, F(3, 10)),
        Factor("env", "环境容量", FactorDirection.HIGHER_LESS, F(1, 5)),
    ),
    F(3, 10),
)


def test_weighted_delivers_the_provincial_target_exactly() -> None:
    alloc = allocate_weighted(FIVE, F(15, 100), WEIGHTS)
    assert alloc.intensity_check.implied_reduction_frac == F(15, 100)
    assert alloc.intensity_check.slack_tce == 0
    scores = [t.score for t in alloc.targets]
    targets = [t.target_frac for t in alloc.targets]
    assert all(s is not None and 0 <= s <= 1 for s in scores)
    # same order: a higher composite score never gets a smaller target
    order = sorted(range(5), key=lambda k: scores[k])  # type: ignore[arg-type, return-value]
    assert [targets[k] for k in order] == sorted(targets)
    # the spread before scaling is ±30 %: max/min ratio ≤ 1.3/0.7
    assert max(targets) / min(targets) <= F(13, 7)


def test_composite_score_min_max_normalisation() -> None:
    # gdp_pc: (90000 − 30000)/60000 = 1 for 甲, 0 for 丁; env reversed: 甲 (9−3)/6 = 1, 丁 0
    s = composite_scores(FIVE, [WEIGHTS.factors[0], WEIGHTS.factors[2]])
    assert s[0] == 1 and s[3] == 0
    assert s[2] == (F(1, 2) * F(1, 2) + F(1, 5) * F(2, 3)) / F(7, 10)


def test_a_factor_on_which_all_regions_are_equal_is_neutral() -> None:
    same = [region(r.region, r.base_energy_tce, r.base_gdp_10k_yuan, F(1, 2),
                   factors={"x": F(1)}) for r in FIVE]  # fmt: skip
    scheme = WeightScheme(
        "w", "v", "s", (Factor("x", "x", FactorDirection.HIGHER_MORE, F(1)),), F(3, 10)
    )
    alloc = allocate_weighted(same, F(15, 100), scheme)
    # uniform growth, neutral scores → everyone gets exactly the provincial target
    assert {t.target_frac for t in alloc.targets} == {F(15, 100)}


def test_weighted_needs_its_factor_columns() -> None:
    with pytest.raises(DecompositionError, match="region 甲: no value for factor 'gdp_pc'"):
        allocate_weighted([region("甲", 1, 1, F(0))], F(1, 10), WEIGHTS)


def test_weight_preset_and_yaml_validation() -> None:
    w = weight_scheme()
    assert w.name == "default-factors"
    assert {f.column for f in w.factors} == {
        "gdp_per_capita_yuan",
        "secondary_share_pct",
        "intensity_vs_province_ratio",
        "environmental_capacity_index",
    }
    assert sum(f.weight for f in w.factors) == 1
    base = {"kind": "weights", "name": "w", "source": "s", "spread": 0.2,
            "factors": [{"column": "x", "direction": "higher_more", "weight": 1}]}  # fmt: skip
    assert weight_scheme_from_mapping(base, version="v").spread_frac == F(1, 5)
    with pytest.raises(ReferenceDataError, match="direction 'up'"):
        weight_scheme_from_mapping(
            {**base, "factors": [{"column": "x", "direction": "up", "weight": 1}]}, version="v"
        )
    with pytest.raises(ReferenceDataError, match="spread must be in"):
        weight_scheme_from_mapping({**base, "spread": 1}, version="v")
    with pytest.raises(ReferenceDataError, match="weights must be"):
        weight_scheme_from_mapping(
            {**base, "factors": [{"column": "x", "direction": "higher_more", "weight": -1}]},
            version="v",
        )


def test_presets_are_listed_by_kind() -> None:
    assert "national-12th-fyp" in available_presets("tiers")
    assert "default-factors" in available_presets("weights")
    assert "default-efficiency" in available_presets("efficiency")
    with pytest.raises(ReferenceDataError, match="unknown tiers preset 'nope'"):
        tier_scheme("nope")


# ---------------------------------------------------------------------------------------------
# efficiency (LP)

EFF = EfficiencyScheme("e", "v", "s", "intensity_vs_province_ratio", F(1, 2), F(3, 2))


def test_efficiency_delivers_exactly_and_favours_potential() -> None:
    alloc = allocate_efficiency(FIVE, F(15, 100), EFF)
    ic = alloc.intensity_check
    assert ic.slack_tce == 0 and ic.implied_reduction_frac == F(15, 100)
    for t in alloc.targets:
        assert t.min_target_frac == F(15, 200) and t.max_target_frac == F(45, 200)
        assert t.min_target_frac <= t.target_frac <= t.max_target_frac
    # more potential (higher relative intensity) never gets a smaller target
    by_potential = sorted(alloc.targets, key=lambda t: t.potential or 0)
    targets = [t.target_frac for t in by_potential]
    assert targets == sorted(targets)
    # a fractional knapsack: at most one region strictly between its bounds
    inner = [t for t in alloc.targets if t.min_target_frac < t.target_frac < t.max_target_frac]  # type: ignore[operator]
    assert len(inner) <= 1


def test_efficiency_respects_per_region_bounds() -> None:
    fixed = [
        region(r.region, r.base_energy_tce, r.base_gdp_10k_yuan, r.gdp_growth_frac,
               min_target_frac=F(14, 100) if r.region == "戊" else None,
               max_target_frac=F(14, 100) if r.region == "戊" else None)
        for r in FIVE
    ]  # fmt: skip
    alloc = allocate_efficiency(fixed, F(15, 100), EFF)
    assert next(t for t in alloc.targets if t.region == "戊").target_frac == F(14, 100)
    assert alloc.intensity_check.slack_tce == 0


def test_efficiency_with_a_binding_total_cap() -> None:
    plain = allocate_efficiency(FIVE, F(15, 100), EFF)
    inc = sum(t.increment_tce for t in plain.targets)
    cap = TotalCap(increment_cap_tce=inc - 20, reserve_tce=F(10))  # 30 tce tighter than plain
    alloc = allocate_efficiency(FIVE, F(15, 100), EFF, cap)
    assert alloc.total_check is not None
    assert alloc.total_check.slack_tce == 0  # the cap binds, exactly
    assert alloc.intensity_check.slack_tce == 30  # so the intensity target is over-delivered


def test_efficiency_infeasible() -> None:
    tight = EfficiencyScheme("e", "v", "s", "intensity_vs_province_ratio", F(0), F(1, 2))
    with pytest.raises(DecompositionError, match="infeasible: even with every region at its upper"):
        allocate_efficiency(FIVE, F(15, 100), tight)
    with pytest.raises(DecompositionError, match="exceed the increment cap"):
        allocate_efficiency(FIVE, F(15, 100), EFF, TotalCap(F(0)))


def test_efficiency_preset() -> None:
    e = efficiency_scheme()
    assert (e.potential, e.min_frac_of_province_target, e.max_frac_of_province_target) == (
        "intensity_vs_province_ratio",
        F(1, 2),
        F(3, 2),
    )


def test_decompose_dispatch_needs_the_scheme() -> None:
    with pytest.raises(DecompositionError, match="needs a tier scheme"):
        decompose(Method.TIERED, [A, B], F(16, 100))
    assert decompose(Method.MANUAL, [A, B], F(16, 100)).method is Method.MANUAL


# ---------------------------------------------------------------------------------------------
# properties

regions_st = st.lists(
    st.tuples(
        st.integers(1, 10**8),  # base energy, tce
        st.integers(1, 10**8),  # base GDP, 10k yuan
        st.integers(-20, 120),  # growth, %
        st.integers(0, 30),  # target, %
        st.integers(0, 100),  # factor
    ),
    min_size=1,
    max_size=12,
)


def _build(rows: list[tuple[int, int, int, int, int]]) -> list[RegionInput]:
    return [
        region(f"r{k}", e, g, F(gr, 100), manual_target_frac=F(t, 100), factors={"x": F(x)})
        for k, (e, g, gr, t, x) in enumerate(rows)
    ]


@settings(max_examples=60, deadline=None)
@given(rows=regions_st, target=st.integers(1, 30))
def test_slack_in_pp_and_in_tce_agree(
    rows: list[tuple[int, int, int, int, int]], target: int
) -> None:
    """slack_tce = slack_frac · I0 · ΣG1, so both say the same about consistency."""
    regions = _build(rows)
    c = allocate_manual(regions, F(target, 100)).intensity_check
    assert c.slack_tce == c.slack_frac * c.base_intensity_tce_per_10k_yuan * c.end_gdp_10k_yuan
    assert (c.slack_tce >= 0) == (c.slack_frac >= 0) == c.consistent


@settings(max_examples=60, deadline=None)
@given(rows=regions_st, target=st.integers(1, 30))
def test_weighted_always_delivers_exactly(
    rows: list[tuple[int, int, int, int, int]], target: int
) -> None:
    regions = _build(rows)
    scheme = WeightScheme(
        "w", "v", "s", (Factor("x", "x", FactorDirection.HIGHER_MORE, F(1)),), F(3, 10)
    )
    try:
        alloc = allocate_weighted(regions, F(target, 100), scheme)
    except DecompositionError:
        return  # e.g. a scaled target ≥ 100 % for extreme growth mixes
    assert alloc.intensity_check.slack_tce == 0


@settings(max_examples=30, deadline=None)
@given(rows=regions_st, target=st.integers(5, 25))
def test_efficiency_is_exact_or_reports_infeasible(
    rows: list[tuple[int, int, int, int, int]], target: int
) -> None:
    regions = _build(rows)
    try:
        alloc = allocate_efficiency(regions, F(target, 100), EFF)
    except DecompositionError as exc:
        assert "infeasible" in str(exc) or "≥ 100 %" in str(exc)
        return
    assert alloc.intensity_check.slack_tce >= 0
    lower = check_intensity(regions, [F(target, 200)] * len(regions), F(target, 100))
    if lower.slack_tce < 0:  # the lower bounds alone do not deliver → the constraint binds
        assert alloc.intensity_check.slack_tce == 0
