"""Provenance of a computed figure: its inputs, the data/rule versions, the rule and the formula.

Every accounting result of :mod:`dualcontrol.core` carries one :class:`Provenance` per figure so
the platform can answer "from what?" — the UI shows it on demand, the CLI prints it with
``--format json``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np


def _text(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Provenance:
    """来源说明 — where a figure comes from."""

    figure: str
    formula: str
    inputs: tuple[tuple[str, str], ...] = ()
    versions: tuple[str, ...] = ()
    rule: str = ""
    notes: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        figure: str,
        formula: str,
        inputs: Mapping[str, object] | Iterable[tuple[str, object]] = (),
        versions: Iterable[str] = (),
        rule: str = "",
        notes: Iterable[str] = (),
    ) -> Provenance:
        items = inputs.items() if isinstance(inputs, Mapping) else inputs
        return cls(
            figure=figure,
            formula=formula,
            inputs=tuple((str(k), _text(v)) for k, v in items),
            versions=tuple(dict.fromkeys(v for v in versions if v)),
            rule=rule,
            notes=tuple(n for n in notes if n),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "figure": self.figure,
            "formula": self.formula,
            "inputs": dict(self.inputs),
            "versions": list(self.versions),
            "rule": self.rule,
            "notes": list(self.notes),
        }
