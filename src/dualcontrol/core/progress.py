"""Pace, progress and implied rates of five-year reduction targets (shared/reference/02).

All rates are fractions (0.15 = 15 %). A *reduction* is positive when the indicator fell.
Functions accept a float or a numpy array and return the same kind.

* Cumulative reduction over k years: 1 − Π(1 − r_year).
* Annual average reduction implied by a target R over n years: 1 − (1 − R)^(1/n)
  (15 % over five years → 3.2 % a year).
* Pace required after k of n years (序时进度): linear R·k/n, or compounded 1 − (1 − R)^(k/n);
  the time pace itself is k/n (20 %, 40 %, … 100 % — the 2011 NDRC rule).
* Progress toward a reduction target (完成进度): logarithmic ln(1 − a)/ln(1 − R) or linear a/R;
  both are in official use, so every result says which.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import overload

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class ProgressDefinition(StrEnum):
    """完成进度的计算口径."""

    LOG = "log"
    LINEAR = "linear"


class PaceDefinition(StrEnum):
    """序时进度的计算口径."""

    LINEAR = "linear"
    COMPOUND = "compound"


PROGRESS_FORMULAS: dict[ProgressDefinition, str] = {
    ProgressDefinition.LOG: "progress = ln(1 − achieved_reduction) / ln(1 − target_reduction)",
    ProgressDefinition.LINEAR: "progress = achieved_reduction / target_reduction",
}
PACE_FORMULAS: dict[PaceDefinition, str] = {
    PaceDefinition.LINEAR: "required_reduction = target_reduction × k / n",
    PaceDefinition.COMPOUND: "required_reduction = 1 − (1 − target_reduction)^(k / n)",
}


class ProgressError(ValueError):
    """A target or an achieved figure outside the domain of the formula."""


def _out(value: npt.ArrayLike) -> float | FloatArray:
    arr = np.asarray(value, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr


def _check_target(target_frac: float) -> None:
    if not 0 < target_frac < 1:
        raise ProgressError(f"a reduction target must be between 0 and 1, got {target_frac!r}")


@overload
def progress_log_frac(achieved_frac: float, target_frac: float) -> float: ...
@overload
def progress_log_frac(achieved_frac: FloatArray, target_frac: float) -> FloatArray: ...
def progress_log_frac(achieved_frac: float | FloatArray, target_frac: float) -> float | FloatArray:
    """完成进度 (logarithmic definition): ln(1 − achieved) / ln(1 − target)."""
    _check_target(target_frac)
    achieved = np.asarray(achieved_frac, dtype=np.float64)
    if np.any(achieved >= 1):
        raise ProgressError("an achieved reduction of 100 % or more has no logarithmic progress")
    return _out(np.log1p(-achieved) / np.log1p(-target_frac))


@overload
def progress_linear_frac(achieved_frac: float, target_frac: float) -> float: ...
@overload
def progress_linear_frac(achieved_frac: FloatArray, target_frac: float) -> FloatArray: ...
def progress_linear_frac(
    achieved_frac: float | FloatArray, target_frac: float
) -> float | FloatArray:
    """完成进度 (linear definition): achieved / target."""
    _check_target(target_frac)
    return _out(np.asarray(achieved_frac, dtype=np.float64) / target_frac)


@overload
def progress_frac(
    achieved_frac: float, target_frac: float, definition: ProgressDefinition
) -> float: ...
@overload
def progress_frac(
    achieved_frac: FloatArray, target_frac: float, definition: ProgressDefinition
) -> FloatArray: ...
def progress_frac(
    achieved_frac: float | FloatArray, target_frac: float, definition: ProgressDefinition
) -> float | FloatArray:
    """完成进度 under the named definition."""
    if ProgressDefinition(definition) is ProgressDefinition.LOG:
        return progress_log_frac(achieved_frac, target_frac)
    return progress_linear_frac(achieved_frac, target_frac)


def over_fulfilment_frac(achieved_frac: float, target_frac: float) -> float:
    """超额完成比例 (linear): achieved / target − 1 (北京 “十一五” 26.59 % / 20 % → 32.95 %)."""
    _check_target(target_frac)
    return achieved_frac / target_frac - 1


def annual_rate_frac(total_reduction_frac: float, years: int) -> float:
    """年均降低率 implied by a reduction over ``years`` years: 1 − (1 − R)^(1/years)."""
    if years <= 0:
        raise ProgressError("the number of years must be positive")
    if total_reduction_frac >= 1:
        raise ProgressError("a reduction of 100 % or more has no annual rate")
    return float(1 - (1 - total_reduction_frac) ** (1 / years))


def cumulative_reduction_frac(annual_reductions_frac: Iterable[float]) -> float:
    """累计降低率 from annual reductions: 1 − Π(1 − r)."""
    product = 1.0
    for r in annual_reductions_frac:
        product *= 1 - r
    return 1 - product


def time_pace_frac(years_elapsed: int, years_total: int) -> float:
    """时间进度 k / n (20 %, 40 %, … after 1, 2, … of 5 years)."""
    if years_total <= 0 or not years_elapsed >= 0:
        raise ProgressError("need 0 ≤ k and n > 0")
    return years_elapsed / years_total


@overload
def required_reduction_frac(
    target_frac: float, years_elapsed: int, years_total: int, definition: PaceDefinition
) -> float: ...
@overload
def required_reduction_frac(
    target_frac: float, years_elapsed: FloatArray, years_total: int, definition: PaceDefinition
) -> FloatArray: ...
def required_reduction_frac(
    target_frac: float,
    years_elapsed: int | FloatArray,
    years_total: int,
    definition: PaceDefinition,
) -> float | FloatArray:
    """序时进度要求的累计降低率 after k of n years: linear R·k/n or compounded 1 − (1 − R)^(k/n)."""
    _check_target(target_frac)
    if years_total <= 0:
        raise ProgressError("the number of years must be positive")
    share = np.asarray(years_elapsed, dtype=np.float64) / years_total
    if PaceDefinition(definition) is PaceDefinition.LINEAR:
        return _out(target_frac * share)
    return _out(1 - (1 - target_frac) ** share)


def remaining_annual_rate_frac(target_frac: float, achieved_frac: float, years_left: int) -> float:
    """今后每年需要的年均降低率: 1 − ((1 − target) / (1 − achieved))^(1/years_left)."""
    _check_target(target_frac)
    if years_left <= 0:
        raise ProgressError("no years left")
    if achieved_frac >= 1:
        raise ProgressError("an achieved reduction of 100 % or more leaves nothing to compute")
    return float(1 - ((1 - target_frac) / (1 - achieved_frac)) ** (1 / years_left))


def increment_progress_frac(increment: float, increment_cap: float) -> float:
    """增量控制进度: increment so far / five-year increment cap (compare with the time pace)."""
    if increment_cap <= 0:
        raise ProgressError("an increment cap must be positive")
    return increment / increment_cap


@dataclass(frozen=True)
class Progress:
    """A progress figure with the definition it was computed under (always shown together)."""

    value_frac: float
    definition: ProgressDefinition
    achieved_frac: float
    target_frac: float

    @property
    def formula(self) -> str:
        return PROGRESS_FORMULAS[self.definition]


def progress(achieved_frac: float, target_frac: float, definition: ProgressDefinition) -> Progress:
    """完成进度 with its label."""
    definition = ProgressDefinition(definition)
    return Progress(
        value_frac=progress_frac(achieved_frac, target_frac, definition),
        definition=definition,
        achieved_frac=achieved_frac,
        target_frac=target_frac,
    )
