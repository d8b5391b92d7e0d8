"""The plan parser on real documents it was not built from (issue 15): per-document floors.

Corpus: tests/data/plans/corpus/ — 30 public plan documents (national and 19 provinces:
provincial, city and joint documents, 2013–2024; 部门分工, 实施方案, 工作方案, 工作要点, 若干措施,
实施意见, 行动方案, 行动计划, a Markdown text, a PDF text layer), each with its source (``*.source.yaml``) and hand counts (``*.expected.yaml``,
conventions in the corpus README.md).  Goal of the issue: ≥ 98 % of tasks and ≥ 95 % of lead
departments on every document, no junk department.  The five hold-out documents (``holdout:
true``) were counted and measured after the parser changes, never tuned to; the two of them that
stayed below the goal (heze, lvliang) reach it since general vocabulary rules were added.  Eight
more documents (``unseen: true``) were counted by hand and then run first, five of them before
any change of that round (``unseen_first_run.txt``; the last, guigang 2021, was below the goal
on its first run: one context part read as a task, one target missed).  Floors here are the measured figures, so a
regression fails.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

CORPUS = Path(__file__).resolve().parent.parent / "data" / "plans" / "corpus"

# document → (reason it stays below the goal, floors it does reach).  Empty since heze 2023 (an
# undated covering notice, docs/plans.md rule 1) and lvliang 2019 (annual-plan year, 天数 targets)
# were brought to the goal by general vocabulary rules (notice_markers, annual_plan_words,
# subject_units); a document added below the goal is listed here with its reason.
BELOW_GOAL: dict[str, tuple[str, dict[str, float]]] = {}
# targets: recall floors per document (measured); 1.0 where not listed
TARGET_RECALL_FLOOR: dict[str, float] = {}


def _load_measure() -> ModuleType:
    spec = importlib.util.spec_from_file_location("plans_corpus_measure", CORPUS / "measure.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@cache
def scores() -> dict[str, Any]:
    measure = _load_measure()
    return {s.document: s for s in measure.measure_all()}


def documents() -> list[str]:
    return sorted(p.name.removesuffix(".expected.yaml") for p in CORPUS.glob("*.expected.yaml"))


def test_corpus_is_large_and_varied() -> None:
    names = documents()
    assert len(names) >= 15
    sources = [yaml.safe_load((CORPUS / f"{n}.source.yaml").read_text("utf-8")) for n in names]
    assert all(s["url"] and s["title"] and s["obtained"] for s in sources)
    assert len({s["province"] for s in sources}) >= 12
    assert len({s["genre"] for s in sources}) >= 8
    assert {p.suffix for p in CORPUS.iterdir() if p.stem in names} >= {".txt", ".md"}


@pytest.mark.parametrize("name", documents())
def test_document_meets_its_floors(name: str) -> None:
    s = scores()[name]
    assert s.junk == (), f"junk departments: {s.junk}"
    if name in BELOW_GOAL:
        _, floors = BELOW_GOAL[name]
        for metric, floor in floors.items():
            assert getattr(s, metric) >= floor, metric
        return
    assert s.task_recall >= 0.98 and s.task_precision >= 0.98
    assert s.lead_recall >= 0.95 and s.lead_precision >= 0.95
    assert s.target_recall >= TARGET_RECALL_FLOOR.get(name, 1.0)
    assert s.target_precision >= 0.95
    assert s.indicators_matched == s.indicators_expected


def test_corpus_totals() -> None:
    rows = list(scores().values())
    tasks = sum(s.tasks_matched for s in rows), sum(s.tasks_expected for s in rows)
    leads = sum(s.leads_matched for s in rows), sum(s.leads_expected for s in rows)
    targets = sum(s.targets_matched for s in rows), sum(s.targets_expected for s in rows)
    assert tasks == (44, 44)
    assert leads == (27, 27)
    assert targets == (108, 108)


def test_unseen_documents_were_measured_before_any_change() -> None:
    """The documents added as unseen (issue 15, second round) keep their first-run record."""
    unseen = [
        n
        for n in documents()
        if yaml.safe_load((CORPUS / f"{n}.expected.yaml").read_text("utf-8")).get("unseen")
    ]
    assert len(unseen) >= 3
    first_run = (CORPUS / "unseen_first_run.txt").read_text("utf-8")
    for name in unseen:
        assert name in first_run
        s = scores()[name]
        assert s.task_recall == s.task_precision == 1.0
        assert s.target_recall == s.target_precision == 1.0  # after the fixes it led to


def test_index_states_for_every_document_whether_it_is_truncated() -> None:
    """README's index has one row per document and says what its source file says."""
    readme = (CORPUS / "README.md").read_text("utf-8")
    for name in documents():
        source = yaml.safe_load((CORPUS / f"{name}.source.yaml").read_text("utf-8"))
        assert isinstance(source["truncated"], bool), name
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{name}."))
        assert ("| yes — ends" in row) is source["truncated"], name
        expected = yaml.safe_load((CORPUS / f"{name}.expected.yaml").read_text("utf-8"))
        leads = sum(len(t["lead"]) for t in expected["tasks"])
        assert row.endswith(f"| {len(expected['tasks'])} / {leads} / {len(expected['targets'])} |")
