"""Issue 14: grade names follow the interface language (the sheet's name_en on English pages); the
record keeps the Chinese name as published."""

from __future__ import annotations

from django.utils import translation

from dualcontrol.assessment.models import AssessmentRecord, AssessmentRound
from dualcontrol.reference import load_yaml


def _record(sheet: str, key: str, name_zh: str) -> AssessmentRecord:
    _version, definition = load_yaml(sheet)
    return AssessmentRecord(
        round=AssessmentRound(sheet_definition=definition), grade_key=key, grade_name=name_zh
    )


def test_every_grade_of_every_builtin_sheet_has_its_english_name():
    from importlib import resources

    sheets = [
        p.name
        for p in resources.files("dualcontrol.reference.data").iterdir()
        if p.name.startswith("scoring_") and p.name.endswith(".yaml")
    ]
    assert len(sheets) >= 6
    for sheet in sheets:
        _v, definition = load_yaml(sheet)
        for g in definition["grades"]:
            rec = _record(sheet, g["key"], g["name_zh"])
            with translation.override("en"):
                assert rec.grade_label == g["name_en"] and g["name_en"] != g["name_zh"], sheet
            with translation.override("zh-hans"):
                assert rec.grade_label == g["name_zh"]


def test_an_unknown_key_keeps_the_recorded_name():
    rec = _record("scoring_gf_2007_36.yaml", "nope", "完成")
    with translation.override("en"):
        assert rec.grade_label == "完成"
