"""Project-registry rules (``project_rules.yaml``, ``project_types.csv``) as one plain, versioned value.

What a project of each type may claim (measures), which evidence it needs before its reduction or
saving is recognised, the accepted documents, and the sources of each rule.  Issue 20 adds its kinds
(investment projects, capacity elimination) as further ``kinds`` and types here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.utils.translation import get_language

from dualcontrol.reference import ReferenceDataError, load_csv, load_yaml, parse_date

RULES_FILE = "project_rules.yaml"
TYPES_FILE = "project_types.csv"


def _english() -> bool:
    return (get_language() or "").startswith("en")


@dataclass(frozen=True)
class Measure:
    """What a project can claim: a pollutant reduction (t) or an energy saving (tce)."""

    code: str
    name_zh: str
    name_en: str
    unit: str
    statistics_column: str | None
    aliases: tuple[str, ...]
    source: str

    @property
    def label(self) -> str:
        return self.name_en if _english() else self.name_zh


@dataclass(frozen=True)
class EvidenceKind:
    """证明材料 — one kind of document a project files."""

    code: str
    name_zh: str
    name_en: str
    source: str

    @property
    def label(self) -> str:
        return self.name_en if _english() else self.name_zh


@dataclass(frozen=True)
class ProjectType:
    """项目类型 — a row of ``project_types.csv``."""

    code: str
    kind: str
    medium: str
    group_zh: str
    name_zh: str
    name_en: str
    measures: tuple[str, ...]
    evidence: tuple[str, ...]
    evidence_source: str
    source: str
    valid_from: dt.date | None
    valid_to: dt.date | None

    @property
    def label(self) -> str:
        return self.name_en if _english() else self.name_zh

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


@dataclass(frozen=True)
class ProjectRules:
    version: str
    kinds: dict[str, dict[str, str]]
    measures: dict[str, Measure]
    evidence: dict[str, EvidenceKind]
    types: dict[str, ProjectType]
    document_extensions: tuple[str, ...]
    document_max_bytes: int
    planned_start_counts: bool
    sources: dict[str, str] = field(default_factory=dict)

    def measure(self, text: str) -> Measure | None:
        """A measure by its code, an alias (COD, NH3-N, 化学需氧量 …) or name, case-insensitive."""
        key = _norm(text)
        for m in self.measures.values():
            names = (m.code, m.name_zh, m.name_en, *m.aliases)
            if any(_norm(n) == key for n in names):
                return m
        return None

    def types_of(self, kind: str, day: dt.date | None = None) -> list[ProjectType]:
        return [
            t for t in self.types.values() if t.kind == kind and (day is None or t.valid_on(day))
        ]

    def type_label(self, code: str) -> str:
        t = self.types.get(code)
        return t.label if t else code

    def kind_label(self, kind: str) -> str:
        k = self.kinds.get(kind, {})
        return str(k.get("name_en" if _english() else "name_zh", kind))

    @property
    def pollutant_measures(self) -> list[Measure]:
        """The measures written to the regional statistics (the four key-project pollutants)."""
        return [m for m in self.measures.values() if m.statistics_column]


def _norm(text: str) -> str:
    return "".join(ch for ch in (text or "").strip().lower() if ch not in " -_·")


def _split(value: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in (value or "").split(";") if x.strip())


def _rules_from(version: str, d: dict[str, Any], types_table: Any) -> ProjectRules:
    kinds = {str(k): {kk: str(vv) for kk, vv in v.items()} for k, v in d["kinds"].items()}
    measures = {
        str(code): Measure(
            code=str(code),
            name_zh=str(m["name_zh"]),
            name_en=str(m["name_en"]),
            unit=str(m["unit"]),
            statistics_column=str(m["statistics_column"]) if m.get("statistics_column") else None,
            aliases=tuple(str(a) for a in m.get("aliases") or ()),
            source=str(m["source"]),
        )
        for code, m in d["measures"].items()
    }
    evidence = {
        str(code): EvidenceKind(
            code=str(code),
            name_zh=str(e["name_zh"]),
            name_en=str(e["name_en"]),
            source=str(e["source"]),
        )
        for code, e in d["evidence"].items()
    }
    types: dict[str, ProjectType] = {}
    for i, r in enumerate(types_table.rows, start=2):
        where = f"{TYPES_FILE} row {i}"
        t = ProjectType(
            code=r["code"],
            kind=r["kind"],
            medium=r.get("medium", ""),
            group_zh=r.get("group_zh", ""),
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            measures=_split(r["measures"]),
            evidence=_split(r["evidence"]),
            evidence_source=r.get("evidence_source", ""),
            source=r["source"],
            valid_from=parse_date(r.get("valid_from", ""), where=where),
            valid_to=parse_date(r.get("valid_to", ""), where=where),
        )
        if not t.code or t.code in types:
            raise ReferenceDataError(f"{where}: code missing or repeated")
        if t.kind not in kinds:
            raise ReferenceDataError(f"{where}: unknown kind {t.kind!r}")
        if not t.measures or any(m not in measures for m in t.measures):
            raise ReferenceDataError(f"{where}: unknown or no measures {t.measures}")
        if any(e not in evidence for e in t.evidence):
            raise ReferenceDataError(f"{where}: unknown evidence kind in {t.evidence}")
        if t.evidence and not t.evidence_source:
            raise ReferenceDataError(f"{where}: required evidence needs evidence_source")
        types[t.code] = t
    docs = d["documents"]
    max_bytes = int(docs["max_bytes"])
    if max_bytes < 1:
        raise ReferenceDataError(f"{RULES_FILE}: documents.max_bytes must be >= 1")
    return ProjectRules(
        version=f"{version} {types_table.version}",
        kinds=kinds,
        measures=measures,
        evidence=evidence,
        types=types,
        document_extensions=tuple(str(x).lower() for x in docs["extensions"]),
        document_max_bytes=max_bytes,
        planned_start_counts=bool(d["late"]["planned_start_counts"]),
        sources={
            "documents": str(docs["source"]),
            "late": str(d["late"]["source"]),
            "accounting_year": str(d["accounting_year"]["source"]),
            "counted": str(d["counted"]["source"]),
        },
    )


@cache
def project_rules() -> ProjectRules:
    """The rules in force (their version goes on every verification)."""
    version, d = load_yaml(RULES_FILE)
    table = load_csv(TYPES_FILE)
    try:
        return _rules_from(version, d, table)
    except ReferenceDataError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ReferenceDataError(f"{RULES_FILE}/{TYPES_FILE}: {exc!r}") from exc
