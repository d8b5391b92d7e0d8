"""The scoring basis of every scoring path reads in Chinese on Chinese pages (issue 14: no English
developer text on Chinese screens)."""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest

from dualcontrol.core.assessment import (
    BetweenBands,
    Bonus,
    CompletionBand,
    CompletionRatio,
    CompletionScoring,
    basis_zh,
    score_completion,
)

LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _scoring(between: BetweenBands, bonus: Bonus | None = None) -> CompletionScoring:
    return CompletionScoring(
        ratio=CompletionRatio.LINEAR,
        bands=(
            CompletionBand(at_least=D("1"), points=D("40")),
            CompletionBand(at_least=D("0.9"), points=D("30")),
        ),
        otherwise=D("0"),
        between=between,
        bonus=bonus,
    )


@pytest.mark.parametrize(
    ("between", "completion", "expected"),
    [
        (BetweenBands.STEP, D("0.95"), "完成率 0.95 ≥ 0.9，得 30 分"),
        (BetweenBands.STEP, D("0.5"), "完成率 0.5 < 0.9，得 0 分"),
        (BetweenBands.INTERPOLATE, D("0.95"), "完成率 0.95 介于 0.9 与 1 之间，线性插值得 35 分"),
    ],
)
def test_completion_bases(between, completion, expected):
    _p, _b, basis = score_completion(_scoring(between), completion)
    assert basis_zh(basis) == expected


def test_over_fulfilment_and_comparison_notes():
    bonus = Bonus(step=D("0.1"), points_per_step=D("1"), max_points=D("5"))
    _p, _b, basis = score_completion(_scoring(BetweenBands.STEP, bonus), D("1.25"))
    text = basis_zh(
        basis + "; compared at 2 decimals of a percentage: target 0.0436, actual 0.0363"
    )
    assert text == (
        "完成率 1.25 ≥ 1，得 40 分；超额完成 0.25，计 2 档（每档 0.1），加 2 分；"
        "按百分数保留 2 位小数比较：目标 0.0436，实际 0.0363"
    )
    assert not LATIN_WORD.search(text)


@pytest.mark.parametrize(
    "basis",
    [
        "exempt: incentive target reached → full points",
        "target met (assessed separately, no points)",
        "target missed (assessed separately, no points)",
        "entered by the assessors",
        "target range 0.04–0.045: the lower bound counts",
        "compared at 1 decimals of tce: target 100.1, actual 99.9",
    ],
)
def test_fixed_bases(basis):
    assert not LATIN_WORD.search(basis_zh(basis).replace("tce", "")), basis_zh(basis)
