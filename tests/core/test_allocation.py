"""Decomposition of cap / amount / share / level / peak-year targets and their aggregate-consistency
checks — specifications with hand-computed examples (exact rationals).

Identities: cap slack = P − R − Σt; amount slack = Σt + R − P; share implied = Σ(s·D)/ΣD; level
implied = Σ(L·G)/ΣG; peak-year implied = max year, slack = P − max year.  Slack ≥ 0 ⇔ consistent.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualcontrol.core.allocation import (
    FORMULAS,
    METHODS,
    AggregateCheck,
    AllocationError,
    AllocationRegion,
    Direction,
    Kind,
    KindAllocation,
    WeightedFactor,
    allocate,
    check,
    composite_scores,
    late_peak_regions,
)

HI = Direction.HIGHER_IS_BETTER
LO = Direction.LOWER_IS_BETTER


def reg(
    name: str, base: int | F | None = None, manual: int | F | None = None, **factors: F
) -> AllocationRegion:
    return AllocationRegion(
        name,
        base=None if base is None else F(base),
        factors=factors,
        manual=None if manual is None else F(manual),
    )


ABC = [reg("A", 3), reg("B", 2), reg("C", 1)]


# ---------------------------------------------------------------------------------------------
# methods table


def test_methods_table() -> None:
    assert METHODS[Kind.CAP] == ("proportional", "weighted", "manual")
    assert METHODS[Kind.AMOUNT] == ("proportional", "weighted", "manual")
    for k in (Kind.SHARE, Kind.LEVEL, Kind.PEAK_YEAR):
        assert METHODS[k] == ("uniform", "manual")
    assert set(METHODS) == set(Kind)
    assert {k for k, _ in FORMULAS} == set(Kind)


def test_enum_values() -> None:
    assert [k.value for k in Kind] == ["cap", "amount", "share", "level", "peak_year"]
    assert Direction("higher_is_better") is HI and Direction("lower_is_better") is LO


# ---------------------------------------------------------------------------------------------
# cap


def test_cap_proportional_hand_example() -> None:
    # (100 − 10) × 3/6, 2/6, 1/6 = 45, 30, 15; 45 + 30 + 15 + 10 = 100 → slack 0
    a = allocate(Kind.CAP, "proportional", ABC, F(100), reserve=F(10))
    assert isinstance(a, KindAllocation)
    assert a.kind is Kind.CAP and a.method == "proportional"
    assert dict(a.targets) == {"A": 45, "B": 30, "C": 15}
    assert list(a.targets) == ["A", "B", "C"]
    c = a.check
    assert (c.parent, c.implied, c.reserve, c.slack) == (F(100), F(90), F(10), F(0))
    assert c.consistent is True
    assert c.kind is Kind.CAP
    assert c.formula == FORMULAS[(Kind.CAP, LO)]
    assert any("90" in n for n in a.notes)


def test_cap_proportional_non_integer_shares_are_exact() -> None:
    a = allocate(Kind.CAP, "proportional", [reg("A", 1), reg("B", 2)], F(100))
    assert a.targets == {"A": F(100, 3), "B": F(200, 3)}
    assert a.check.slack == 0 and a.check.consistent


def test_cap_proportional_region_with_zero_base_gets_zero() -> None:
    a = allocate(Kind.CAP, "proportional", [reg("A", 0), reg("B", 5)], F(40))
    assert a.targets == {"A": 0, "B": 40}


def test_cap_manual_over_the_parent_is_inconsistent() -> None:
    # 50 + 40 + 15 = 105, + reserve 10 = 115 > 100 → slack −15 (same unit as the cap)
    regions = [reg("A", manual=50), reg("B", manual=40), reg("C", manual=15)]
    a = allocate(Kind.CAP, "manual", regions, F(100), reserve=F(10))
    assert a.targets == {"A": 50, "B": 40, "C": 15}
    assert a.check.implied == 105
    assert a.check.slack == -15
    assert not a.check.consistent
    assert any("inconsistent" in n and "-15" in n for n in a.notes)


@pytest.mark.parametrize(
    ("parent", "slack", "consistent"),
    [(F(101), F(1), True), (F(100), F(0), True), (F("99.99"), F("-0.01"), False)],
)
def test_cap_check_boundaries(parent: F, slack: F, consistent: bool) -> None:
    # Σ = 45 + 30 + 15 = 90, reserve 10: “must not exceed” — exactly at the cap is consistent
    c = check(Kind.CAP, ABC, {"A": F(45), "B": F(30), "C": F(15)}, parent, reserve=F(10))
    assert c.slack == slack and c.consistent is consistent


def test_cap_manual_under_the_parent_leaves_room() -> None:
    regions = [reg("A", manual=F("20.5")), reg("B", manual=F("30.25"))]
    a = allocate(Kind.CAP, "manual", regions, F(60))
    assert a.check.slack == F("9.25") and a.check.consistent


def test_cap_weighted_hand_example_two_regions() -> None:
    # equal bases → w = ½, ½; scores 0 and 1; a = ½·0.8, ½·1.2 = 0.4, 0.6 → 40, 60
    regions = [reg("A", 1, x=F(0)), reg("B", 1, x=F(1))]
    a = allocate(Kind.CAP, "weighted", regions, F(100), factors=[WeightedFactor("x", HI, F(1))])
    assert a.targets == {"A": 40, "B": 60}
    assert a.check.slack == 0
    # flipping the direction swaps them
    b = allocate(Kind.CAP, "weighted", regions, F(100), factors=[WeightedFactor("x", LO, F(1))])
    assert b.targets == {"A": 60, "B": 40}


def test_cap_weighted_hand_example_three_regions_with_reserve() -> None:
    # bases 3:2:1, scores 0, ½, 1, spread 1/5:
    # a = 1/2·4/5, 1/3·1, 1/6·6/5 = 2/5, 1/3, 1/5; Σa = 14/15
    # t = 90·(2/5)·15/14, 90·(1/3)·15/14, 90·(1/5)·15/14 = 270/7, 225/7, 135/7
    regions = [reg("A", 3, x=F(0)), reg("B", 2, x=F(5)), reg("C", 1, x=F(10))]
    a = allocate(
        Kind.CAP,
        "weighted",
        regions,
        F(100),
        reserve=F(10),
        factors=[WeightedFactor("x", HI, F(1))],
    )
    assert a.targets == {"A": F(270, 7), "B": F(225, 7), "C": F(135, 7)}
    assert sum(a.targets.values()) == 90
    assert a.check.slack == 0 and a.check.consistent
    assert any(n.startswith("region C: score 1.0000") for n in a.notes)


def test_cap_weighted_zero_spread_is_proportional() -> None:
    regions = [reg("A", 3, x=F(0)), reg("B", 2, x=F(5)), reg("C", 1, x=F(10))]
    a = allocate(
        Kind.CAP,
        "weighted",
        regions,
        F(100),
        reserve=F(10),
        factors=[WeightedFactor("x", HI, F(1))],
        spread=F(0),
    )
    assert a.targets == {"A": 45, "B": 30, "C": 15}


def test_composite_scores_weights_and_equal_factor() -> None:
    # x: 0, 10 → 0, 1 (higher is better); y: 4, 2 → lower is better → 0, 1; z equal → ½
    regions = [reg("A", 1, x=F(0), y=F(4), z=F(7)), reg("B", 1, x=F(10), y=F(2), z=F(7))]
    s = composite_scores(
        regions,
        [
            WeightedFactor("x", HI, F(1)),
            WeightedFactor("y", LO, F(1)),
            WeightedFactor("z", HI, F(2)),
        ],
    )
    # A: (0 + 0 + 2·½)/4 = 1/4; B: (1 + 1 + 1)/4 = 3/4
    assert s == [F(1, 4), F(3, 4)]


def test_weighted_allows_negative_factor_values() -> None:
    regions = [reg("A", 1, g=F(-2)), reg("B", 1, g=F(2))]
    a = allocate(Kind.CAP, "weighted", regions, F(10), factors=[WeightedFactor("g", HI, F(1))])
    assert a.targets == {"A": 4, "B": 6}


# ---------------------------------------------------------------------------------------------
# amount


def test_amount_proportional_and_check() -> None:
    # energy saving 600 tce, bases 3:2:1 → 300, 200, 100; slack = Σ − P = 0
    a = allocate(Kind.AMOUNT, "proportional", ABC, F(600))
    assert a.targets == {"A": 300, "B": 200, "C": 100}
    assert a.check.implied == 600 and a.check.slack == 0 and a.check.consistent
    assert a.check.formula == FORMULAS[(Kind.AMOUNT, LO)]


def test_amount_with_reserve_delivered_by_the_parent() -> None:
    # the parent delivers 60 itself; regions owe 540 → 270, 180, 90; Σ + R − P = 0
    a = allocate(Kind.AMOUNT, "proportional", ABC, F(600), reserve=F(60))
    assert a.targets == {"A": 270, "B": 180, "C": 90}
    assert a.check.slack == 0


def test_amount_manual_shortfall_and_overdelivery() -> None:
    short = allocate(Kind.AMOUNT, "manual", [reg("A", manual=250), reg("B", manual=300)], F(600))
    assert short.check.implied == 550 and short.check.slack == -50 and not short.check.consistent
    over = check(Kind.AMOUNT, ABC, {"A": F(300), "B": F(250), "C": F(100)}, F(600))
    assert over.slack == 50 and over.consistent


def test_amount_direction_argument_does_not_flip_the_check() -> None:
    t = {"A": F(300), "B": F(200), "C": F(90)}
    for d in Direction:
        c = check(Kind.AMOUNT, ABC, t, F(600), direction=d)
        assert c.slack == -10 and not c.consistent


def test_amount_weighted_sums_exactly() -> None:
    regions = [reg("A", 5, p=F(1)), reg("B", 7, p=F(3)), reg("C", 11, p=F(2))]
    a = allocate(
        Kind.AMOUNT,
        "weighted",
        regions,
        F(1000),
        factors=[WeightedFactor("p", HI, F(1))],
        spread=F(1, 3),
    )
    assert sum(a.targets.values()) == 1000 and a.check.slack == 0


# ---------------------------------------------------------------------------------------------
# share


def test_non_fossil_share_uniform_gives_implied_equal_to_parent() -> None:
    regions = [reg("A", 1000), reg("B", 3000), reg("C", 500)]
    a = allocate(Kind.SHARE, "uniform", regions, F(1, 4), direction=HI)
    assert a.targets == {"A": F(1, 4), "B": F(1, 4), "C": F(1, 4)}
    assert a.check.implied == F(1, 4) and a.check.slack == 0 and a.check.consistent
    assert a.check.formula == FORMULAS[(Kind.SHARE, HI)]


def test_non_fossil_share_manual() -> None:
    # (0.3·1000 + 0.2·3000) / 4000 = 900/4000 = 0.225 vs target 0.25 → slack −0.025
    regions = [reg("A", 1000, manual=F(3, 10)), reg("B", 3000, manual=F(1, 5))]
    a = allocate(Kind.SHARE, "manual", regions, F(1, 4), direction=HI)
    assert a.check.implied == F(9, 40)
    assert a.check.slack == F(-1, 40) and not a.check.consistent


def test_coal_share_manual_lower_is_better() -> None:
    # (0.5·1000 + 0.4·3000) / 4000 = 1700/4000 = 0.425 ≤ 0.45 → slack 0.025 (2.5 pp)
    regions = [reg("A", 1000, manual=F(1, 2)), reg("B", 3000, manual=F(2, 5))]
    a = allocate(Kind.SHARE, "manual", regions, F(45, 100), direction=LO)
    assert a.check.implied == F(17, 40)
    assert a.check.slack == F(1, 40) and a.check.consistent
    assert a.check.slack * 100 == F(5, 2)
    # the same figures against a 0.4 cap on coal share are inconsistent
    c = check(Kind.SHARE, regions, dict(a.targets), F(2, 5), direction=LO)
    assert c.slack == F(-1, 40) and not c.consistent


def test_share_check_weights_by_denominator_not_by_region() -> None:
    # a simple mean would be (0.1 + 0.5)/2 = 0.3; weighted (0.1·9 + 0.5·1)/10 = 0.14
    regions = [reg("A", 9), reg("B", 1)]
    c = check(Kind.SHARE, regions, {"A": F(1, 10), "B": F(1, 2)}, F(3, 10), direction=HI)
    assert c.implied == F(14, 100) and not c.consistent


# ---------------------------------------------------------------------------------------------
# level


def test_level_uniform_and_manual() -> None:
    regions = [reg("A", 200, manual=F("0.5")), reg("B", 600, manual=F("0.4"))]
    u = allocate(Kind.LEVEL, "uniform", regions, F("0.45"))
    assert u.targets == {"A": F("0.45"), "B": F("0.45")}
    assert u.check.implied == F("0.45") and u.check.slack == 0 and u.check.consistent
    # (0.5·200 + 0.4·600) / 800 = 340/800 = 0.425 ≤ 0.45 → slack 0.025 tce / 10k yuan
    m = allocate(Kind.LEVEL, "manual", regions, F("0.45"))
    assert m.check.implied == F("0.425") and m.check.slack == F("0.025") and m.check.consistent
    assert m.check.formula == FORMULAS[(Kind.LEVEL, LO)]
    tight = check(Kind.LEVEL, regions, dict(m.targets), F("0.42"))
    assert tight.slack == F("-0.005") and not tight.consistent


def test_level_higher_is_better() -> None:
    # e.g. GDP per tce: (2·200 + 3·600)/800 = 2.75 ≥ 2.5
    regions = [reg("A", 200), reg("B", 600)]
    c = check(Kind.LEVEL, regions, {"A": F(2), "B": F(3)}, F(5, 2), direction=HI)
    assert c.implied == F(11, 4) and c.slack == F(1, 4) and c.consistent


# ---------------------------------------------------------------------------------------------
# peak year


def test_peak_year_uniform() -> None:
    a = allocate(Kind.PEAK_YEAR, "uniform", [reg("A"), reg("B")], F(2030))
    assert a.targets == {"A": 2030, "B": 2030}
    assert a.check.implied == 2030 and a.check.slack == 0 and a.check.consistent


def test_peak_year_manual_with_a_later_region_flagged() -> None:
    regions = [reg("A", manual=2028), reg("B", manual=2032), reg("C", manual=2030)]
    a = allocate(Kind.PEAK_YEAR, "manual", regions, F(2030))
    assert a.check.implied == 2032 and a.check.slack == -2 and not a.check.consistent
    assert late_peak_regions(a.targets, F(2030)) == ("B",)
    assert any(n.startswith("region B: peak year 2032 is later than 2030") for n in a.notes)
    early = check(Kind.PEAK_YEAR, regions, {"A": F(2025), "B": F(2027), "C": F(2028)}, F(2030))
    assert early.slack == 2 and early.consistent


def test_peak_year_needs_whole_years() -> None:
    with pytest.raises(AllocationError, match="region A: peak year must be a whole year"):
        allocate(Kind.PEAK_YEAR, "manual", [reg("A", manual=F(40601, 20))], F(2030))
    with pytest.raises(AllocationError, match="parent peak year must be a whole year"):
        allocate(Kind.PEAK_YEAR, "uniform", [reg("A")], F(4061, 2))
    with pytest.raises(AllocationError, match="parent peak year must be a whole year"):
        allocate(Kind.PEAK_YEAR, "uniform", [reg("A")], F(0))


# ---------------------------------------------------------------------------------------------
# properties


bases_st = st.lists(
    st.fractions(min_value=0, max_value=10**6, max_denominator=1000), min_size=1, max_size=12
).filter(lambda xs: sum(xs) > 0)


@settings(max_examples=200, deadline=None)
@given(
    bases=bases_st,
    parent=st.fractions(min_value=0, max_value=10**9, max_denominator=100),
    reserve_frac=st.fractions(min_value=0, max_value=1, max_denominator=50),
    kind=st.sampled_from([Kind.CAP, Kind.AMOUNT]),
)
def test_proportional_always_sums_exactly(
    bases: list[F], parent: F, reserve_frac: F, kind: Kind
) -> None:
    reserve = parent * reserve_frac
    regions = [reg(f"R{k}", b) for k, b in enumerate(bases)]
    a = allocate(kind, "proportional", regions, parent, reserve=reserve)
    assert sum(a.targets.values()) == parent - reserve
    assert a.check.slack == 0 and a.check.consistent
    total = sum(bases)
    for r in regions:
        assert r.base is not None
        assert a.targets[r.region] * total == (parent - reserve) * r.base


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.fractions(min_value=0, max_value=10**6, max_denominator=1000),
            st.fractions(min_value=-100, max_value=100, max_denominator=100),
        ),
        min_size=1,
        max_size=12,
    ).filter(lambda rs: sum(b for b, _ in rs) > 0),
    parent=st.fractions(min_value=0, max_value=10**9, max_denominator=100),
    spread=st.fractions(min_value=0, max_value=F(99, 100), max_denominator=100),
    direction=st.sampled_from(list(Direction)),
)
def test_weighted_always_sums_exactly_and_stays_within_the_spread(
    rows: list[tuple[F, F]], parent: F, spread: F, direction: Direction
) -> None:
    regions = [reg(f"R{k}", b, x=x) for k, (b, x) in enumerate(rows)]
    a = allocate(
        Kind.CAP,
        "weighted",
        regions,
        parent,
        reserve=parent / 10,
        factors=[WeightedFactor("x", direction, F(1))],
        spread=spread,
    )
    to_allocate = parent - parent / 10
    assert sum(a.targets.values()) == to_allocate
    assert a.check.slack == 0
    assert all(v >= 0 for v in a.targets.values())


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.fractions(min_value=0, max_value=10**6, max_denominator=100),
            st.fractions(min_value=0, max_value=1, max_denominator=100),
        ),
        min_size=1,
        max_size=10,
    ).filter(lambda rs: sum(d for d, _ in rs) > 0),
    parent=st.fractions(min_value=0, max_value=1, max_denominator=100),
)
def test_share_check_is_direction_symmetric(rows: list[tuple[F, F]], parent: F) -> None:
    regions = [reg(f"R{k}", d) for k, (d, _) in enumerate(rows)]
    targets = {f"R{k}": s for k, (_, s) in enumerate(rows)}
    hi = check(Kind.SHARE, regions, targets, parent, direction=HI)
    lo = check(Kind.SHARE, regions, targets, parent, direction=LO)
    assert hi.implied == lo.implied and hi.slack == -lo.slack
    assert min(targets.values()) <= hi.implied <= max(targets.values())


# ---------------------------------------------------------------------------------------------
# errors


def test_manual_needs_every_region() -> None:
    with pytest.raises(AllocationError, match="region C: no manual target given"):
        allocate(Kind.CAP, "manual", [reg("A", manual=1), reg("C")], F(10))


def test_negative_values() -> None:
    with pytest.raises(AllocationError, match="region A: base must be ≥ 0"):
        reg("A", -1)
    with pytest.raises(AllocationError, match="region A: manual target must be ≥ 0"):
        reg("A", manual=-1)
    with pytest.raises(AllocationError, match="parent target must be ≥ 0"):
        allocate(Kind.CAP, "proportional", ABC, F(-1))
    with pytest.raises(AllocationError, match="reserve must be ≥ 0"):
        allocate(Kind.CAP, "proportional", ABC, F(10), reserve=F(-1))
    with pytest.raises(AllocationError, match="region B: target must be ≥ 0"):
        check(Kind.CAP, ABC, {"A": F(1), "B": F(-1), "C": F(1)}, F(10))
    with pytest.raises(AllocationError, match="factor 'x': weight must be ≥ 0"):
        allocate(
            Kind.CAP,
            "weighted",
            [reg("A", 1, x=F(1))],
            F(10),
            factors=[WeightedFactor("x", HI, F(-1))],
        )


def test_empty_and_duplicate_regions() -> None:
    with pytest.raises(AllocationError, match="no regions"):
        allocate(Kind.CAP, "proportional", [], F(10))
    with pytest.raises(AllocationError, match="no regions"):
        check(Kind.CAP, [], {}, F(10))
    with pytest.raises(AllocationError, match="listed twice: A"):
        allocate(Kind.CAP, "proportional", [reg("A", 1), reg("B", 1), reg("A", 2)], F(10))
    with pytest.raises(AllocationError, match="a region has no name"):
        reg("")


def test_zero_or_missing_base() -> None:
    with pytest.raises(AllocationError, match=r"total base \(share basis\) is zero"):
        allocate(Kind.CAP, "proportional", [reg("A", 0), reg("B", 0)], F(10))
    with pytest.raises(AllocationError, match=r"total base \(share basis\) is zero"):
        allocate(
            Kind.AMOUNT,
            "weighted",
            [reg("A", 0, x=F(1))],
            F(10),
            factors=[WeightedFactor("x", HI, F(1))],
        )
    with pytest.raises(AllocationError, match=r"region B: no base \(share basis\) given"):
        allocate(Kind.CAP, "proportional", [reg("A", 1), reg("B")], F(10))
    with pytest.raises(AllocationError, match=r"region B: no base \(projected denominator"):
        allocate(Kind.SHARE, "uniform", [reg("A", 1), reg("B")], F(1, 2))
    with pytest.raises(
        AllocationError, match=r"total base \(projected GDP at the end year\) is zero"
    ):
        check(Kind.LEVEL, [reg("A", 0)], {"A": F(1)}, F(1))


def test_reserve_errors() -> None:
    with pytest.raises(
        AllocationError, match=r"reserve \(11\) exceeds the parent cap target \(10\)"
    ):
        allocate(Kind.CAP, "proportional", ABC, F(10), reserve=F(11))
    with pytest.raises(AllocationError, match="reserve applies only to cap and amount"):
        allocate(Kind.SHARE, "uniform", ABC, F(1, 2), reserve=F(1, 10))
    with pytest.raises(AllocationError, match="reserve applies only to cap and amount"):
        check(
            Kind.PEAK_YEAR, ABC, {"A": F(2030), "B": F(2030), "C": F(2030)}, F(2030), reserve=F(1)
        )


def test_share_bounds() -> None:
    with pytest.raises(AllocationError, match="parent share must be between 0 and 1"):
        allocate(Kind.SHARE, "uniform", ABC, F(3, 2))
    with pytest.raises(AllocationError, match="region A: share must be between 0 and 1"):
        allocate(Kind.SHARE, "manual", [reg("A", 1, manual=F(11, 10))], F(1, 2))


def test_unknown_method() -> None:
    with pytest.raises(AllocationError, match="unknown method 'uniform' for cap targets"):
        allocate(Kind.CAP, "uniform", ABC, F(10))
    with pytest.raises(AllocationError, match="supported: uniform, manual"):
        allocate(Kind.SHARE, "proportional", ABC, F(1, 2))


def test_weighted_errors() -> None:
    regions = [reg("甲", 1, x=F(1)), reg("乙", 1)]
    with pytest.raises(AllocationError, match="region 乙: no value for factor 'x'"):
        allocate(Kind.CAP, "weighted", regions, F(10), factors=[WeightedFactor("x", HI, F(1))])
    with pytest.raises(AllocationError, match="needs at least one factor"):
        allocate(Kind.CAP, "weighted", regions, F(10))
    with pytest.raises(AllocationError, match="weights must sum to more than 0"):
        allocate(Kind.CAP, "weighted", regions, F(10), factors=[WeightedFactor("x", HI, F(0))])
    with pytest.raises(AllocationError, match=r"spread must be in \[0, 1\)"):
        allocate(
            Kind.CAP,
            "weighted",
            regions,
            F(10),
            factors=[WeightedFactor("x", HI, F(1))],
            spread=F(1),
        )


def test_check_target_keys() -> None:
    with pytest.raises(AllocationError, match="region C: no target given"):
        check(Kind.CAP, ABC, {"A": F(1), "B": F(1)}, F(10))
    with pytest.raises(AllocationError, match="target\\(s\\) for unknown region\\(s\\): D"):
        check(Kind.CAP, ABC, {"A": F(1), "B": F(1), "C": F(1), "D": F(1)}, F(10))


def test_results_are_immutable() -> None:
    a = allocate(Kind.CAP, "proportional", ABC, F(100))
    assert isinstance(a.check, AggregateCheck)
    with pytest.raises(TypeError):
        a.targets["A"] = F(0)  # type: ignore[index]
    with pytest.raises(AttributeError):
        a.check.slack = F(1)  # type: ignore[misc]
