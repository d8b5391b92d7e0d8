"""Measure the plan parser on the hand-counted corpus (README.md): per document recall/precision.

Run: ``DUALCONTROL_ENV=test .venv/bin/python tests/data/plans/corpus/measure.py``.
:func:`measure_all` is used by tests/core/test_plans_corpus.py (floors per document).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Scores:
    document: str
    tasks_expected: int
    tasks_found: int
    tasks_matched: int
    leads_expected: int
    leads_found: int
    leads_matched: int
    targets_expected: int
    targets_found: int
    targets_matched: int
    indicators_expected: int
    indicators_matched: int
    junk: tuple[str, ...]
    province: str = ""
    year: str = ""
    genre: str = ""
    kind: str = ""  # "" (tuned on), "holdout" (counted after the first changes), "unseen"

    @staticmethod
    def _ratio(a: int, b: int) -> float:
        return 1.0 if b == 0 else a / b

    @property
    def task_recall(self) -> float:
        return self._ratio(self.tasks_matched, self.tasks_expected)

    @property
    def task_precision(self) -> float:
        return self._ratio(self.tasks_matched, self.tasks_found)

    @property
    def lead_recall(self) -> float:
        return self._ratio(self.leads_matched, self.leads_expected)

    @property
    def lead_precision(self) -> float:
        return self._ratio(self.leads_matched, self.leads_found)

    @property
    def target_recall(self) -> float:
        return self._ratio(self.targets_matched, self.targets_expected)

    @property
    def target_precision(self) -> float:
        return self._ratio(self.targets_matched, self.targets_found)


def documents() -> list[Path]:
    return sorted(
        p
        for p in HERE.iterdir()
        if p.suffix in (".txt", ".md", ".html", ".docx")
        and p.with_name(p.stem + ".expected.yaml").exists()
    )


def _canonical(name: str) -> str:
    try:
        from dualcontrol.commands.plans import department_registry
    except ImportError:  # before the registry existed
        return name
    return str(_registry(department_registry).canonical(name))


_REGISTRY: list[Any] = []


def _registry(factory: Any) -> Any:
    if not _REGISTRY:
        _REGISTRY.append(factory())
    return _REGISTRY[0]


def _targets(path: Path, text: str) -> list[dict[str, Any]]:
    try:
        from dualcontrol.commands.plans import document_targets
    except ImportError:  # before `plans targets` existed: the targets of every numbered item
        from dualcontrol.formats.plan_documents import read_plan

        plan = read_plan(path)
        return [
            {"value": t.value, "year": t.year, "indicator": None}
            for i in plan.walk()
            for t in i.targets
        ]
    return [
        {"value": t.value, "year": t.year, "indicator": t.indicator} for t in document_targets(path)
    ]


def _plan(path: Path) -> Any:
    try:
        from dualcontrol.commands.plans import document_plan
    except ImportError:  # before the command read every kind of file
        from dualcontrol.formats.plan_documents import read_plan

        return read_plan(path)
    return document_plan(path)


def _about(path: Path, expected: dict[str, Any]) -> dict[str, str]:
    """Province, year and short genre from the document's source file."""
    source_file = path.with_name(path.stem + ".source.yaml")
    source = yaml.safe_load(source_file.read_text("utf-8")) if source_file.exists() else {}
    genre = re.split(r"[（(]", str(source.get("genre") or ""), maxsplit=1)[0].strip()
    year = re.match(r"\d{4}", str(source.get("date") or ""))
    kind = "unseen" if expected.get("unseen") else "holdout" if expected.get("holdout") else ""
    return {
        "province": str(source.get("province") or ""),
        "year": year.group(0) if year else "",
        "genre": genre,
        "kind": kind,
    }


def measure(path: Path) -> Scores:
    expected = yaml.safe_load(path.with_name(path.stem + ".expected.yaml").read_text("utf-8"))
    plan = _plan(path)
    tasks = {t.key: t for t in plan.tasks}
    exp_tasks = {t["key"]: t for t in expected["tasks"]}
    matched = [k for k in exp_tasks if k in tasks]
    leads_expected = sum(len(t["lead"]) for t in exp_tasks.values())
    leads_found = sum(len(t.lead_departments) for t in tasks.values())
    leads_matched = 0
    for key in matched:
        want = {_canonical(n) for n in exp_tasks[key]["lead"]}
        got = {_canonical(n) for n in tasks[key].lead_departments}
        leads_matched += len(want & got)
    all_expected_names = {
        _canonical(n) for t in exp_tasks.values() for n in [*t["lead"], *t.get("participating", [])]
    }
    junk = tuple(
        sorted(
            {
                n
                for t in tasks.values()
                for n in (*t.lead_departments, *t.participating_departments)
                if _canonical(n) not in all_expected_names and _looks_junk(n)
            }
        )
    )
    found_targets = _targets(path, "")
    remaining = list(found_targets)
    t_matched = 0
    ind_expected = 0
    ind_matched = 0
    for t in expected["targets"]:
        value = Decimal(str(t["value"]))
        if t["indicator"]:
            ind_expected += 1
        for i, f in enumerate(remaining):
            if Decimal(str(f["value"])) == value and f["year"] == t["year"]:
                t_matched += 1
                if t["indicator"] and f["indicator"] == t["indicator"]:
                    ind_matched += 1
                del remaining[i]
                break
    return Scores(
        document=path.stem,
        tasks_expected=len(exp_tasks),
        tasks_found=len(tasks),
        tasks_matched=len(matched),
        leads_expected=leads_expected,
        leads_found=leads_found,
        leads_matched=leads_matched,
        targets_expected=len(expected["targets"]),
        targets_found=len(found_targets),
        targets_matched=t_matched,
        indicators_expected=ind_expected,
        indicators_matched=ind_matched,
        junk=junk,
        **_about(path, expected),
    )


def _looks_junk(name: str) -> bool:
    """A name no reader would call a department: too short, a bare prefix, digits, sentence text."""
    return (
        len(name) < 3
        or re.search(r"\d", name) is not None
        or re.search(r"[，。；：,;:]", name) is not None
        or len(name) > 30
    )


def measure_all() -> list[Scores]:
    return [measure(p) for p in documents()]


def _pad(text: str, width: int) -> str:
    """``text`` cut or padded to ``width`` display columns (a Chinese character takes two)."""
    out, used = "", 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width:
            break
        out, used = out + ch, used + w
    return out + " " * (width - used)


HEADER = (
    f"{_pad('document', 58)} {_pad('province', 9)} year {_pad('genre', 12)} "
    "| tasks e/f  R     P   | leads e/f  R     P   | targets e/f  R     P   | ind   | junk"
)


def table(rows: list[Scores]) -> str:
    """Per-document table (``*`` hold-out, ``†`` unseen: counted before the parser ran on it)."""
    lines = [HEADER, "-" * len(HEADER)]
    lines.extend(table_row(s) for s in rows)
    tot = Scores(
        "TOTAL",
        *(
            sum(getattr(s, f) for s in rows)
            for f in (
                "tasks_expected",
                "tasks_found",
                "tasks_matched",
                "leads_expected",
                "leads_found",
                "leads_matched",
                "targets_expected",
                "targets_found",
                "targets_matched",
                "indicators_expected",
                "indicators_matched",
            )
        ),
        junk=tuple(j for s in rows for j in s.junk),
    )
    lines.append("-" * len(HEADER))
    lines.append(table_row(tot))
    lines.append(
        "* hold-out (counted after the first parser changes)  † unseen (first run: "
        "unseen_first_run.txt)"
    )
    return "\n".join(lines)


def table_row(s: Scores, pct: Any = None) -> str:
    def p(x: float) -> str:
        return f"{100 * x:5.1f}"

    mark = {"holdout": "*", "unseen": "†"}.get(s.kind, "")
    return (
        f"{_pad(s.document + mark, 58)} {_pad(s.province, 9)} {s.year:<4} {_pad(s.genre, 12)} "
        f"| {s.tasks_expected:>2}/{s.tasks_found:<3} {p(s.task_recall)} {p(s.task_precision)} "
        f"| {s.leads_expected:>2}/{s.leads_found:<3} {p(s.lead_recall)} {p(s.lead_precision)} "
        f"| {s.targets_expected:>2}/{s.targets_found:<3}   {p(s.target_recall)} "
        f"{p(s.target_precision)} | {s.indicators_matched:>2}/{s.indicators_expected:<2} "
        f"| {', '.join(s.junk) or '—'}"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parents[3] / "src"))
    print(table(measure_all()))
