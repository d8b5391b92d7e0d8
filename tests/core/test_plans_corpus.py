"""The plan parser on real documents it was not built from (issue 15): per-document floors.

Corpus: tests/data/plans/corpus/ — 22 public plan documents (national, 16 provinces and cities,
2017–2023; 部门分工, 实施方案, 工作方案, 工作要点, 若干措施, 实施意见, 行动方案, a Markdown text, a
PDF text layer), each with its source (``*.source.yaml``) and hand counts (``*.expected.yaml``,
conventions in the corpus README.md).  Goal of the issue: ≥ 98 % of tasks and ≥ 95 % of lead
departments on every document, no junk department.  The five hold-out documents (``holdout:
true``) were counted and measured after the parser changes, never tuned to; two of them stay below
the goal for the reasons given in ``BELOW_GOAL``.  Floors here are the measured figures, so a
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

# document → (reason it stays below the goal, floors it does reach)
BELOW_GOAL: dict[str, tuple[str, dict[str, float]]] = {
    "heze_2023_green-low-carbon_division": (
        "the stored excerpt runs the covering notice's items 一、二、三、 straight into task 1 "
        "(no signature date, no plan title between them): the notice items read as tasks",
        {"lead_precision": 1.0},
    ),
    "lvliang_2019_blue-sky_action-plan": (
        "the plan's year is named only inside 《…2019年行动计划》 titles of other documents, so its "
        "targets get no year (the officer fills it); 优良天数 …天 counts are not read as targets",
        {"task_recall": 1.0, "task_precision": 1.0},
    ),
}
# targets: recall floors per document (measured); 1.0 where not listed
TARGET_RECALL_FLOOR = {"zhejiang-city_2020_air-quality_work-plan": 0.9}


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
    assert tasks == (42, 43)
    assert leads == (27, 27)
