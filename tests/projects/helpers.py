"""Builders for the project-registry tests, on top of tests/factories.world().

Province 530000; Kunming 530100 (city officer "city1") with county 五华区 530102 (unit of "ent1",
verifier "ver1"); Qujing 530300 ("city2") with county 麒麟区 530302 (unit of "ent2").
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from dualcontrol.projects import services
from dualcontrol.projects.models import Project
from dualcontrol.regions.models import Division
from dualcontrol.targets.models import RegionalStatistic

NOW = dt.datetime(2026, 3, 10, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))
PDF = b"%PDF-1.4\n% test evidence\n"

#: evidence each tested type needs (project_types.csv)
SEWAGE = "water_urban_sewage"  # cod;nh3n — accounting_statement, acceptance, monitoring
RURAL = "water_rural_sewage"  # cod;nh3n — accounting_statement, acceptance
ULTRA_LOW = "air_ultra_low"  # nox — accounting_statement, acceptance, monitoring


def pdf(name: str = "doc.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def division(code: str) -> Division:
    return Division.objects.get(code=code)


def project(
    *,
    type_code: str = RURAL,
    division_code: str = "530102",
    entity: Any = None,
    planned: dict[str, Any] | None = None,
    name: str = "",
    start: dt.date = dt.date(2025, 1, 10),
    finish: dt.date = dt.date(2025, 9, 30),
    milestones: list[tuple[str, dt.date]] | None = None,
    user: Any = None,
) -> Project:
    kind = "energy_saving" if type_code.startswith("es_") else "key_reduction"
    return services.register_project(
        user=user,
        kind=kind,
        type_code=type_code,
        name=name or f"测试项目 {type_code} {division_code}",
        division=division(division_code),
        entity=entity,
        owner_name="" if entity else "测试项目单位",
        planned_start=start,
        planned_completion=finish,
        planned=planned if planned is not None else {"cod": "100", "nh3n": "10"},
        milestones=milestones or [],
    )


def completed(
    *,
    evidence: tuple[str, ...] | None = None,
    completed_on: dt.date = dt.date(2025, 9, 20),
    **kw: Any,
) -> Project:
    """A project built and completed (待核查) with ``evidence`` on file (default: all required)."""
    p = project(**kw)
    p = services.start_construction(
        user=None, project=p, started_on=kw.get("start", dt.date(2025, 1, 10)), now=NOW
    )
    p = services.complete_project(user=None, project=p, completed_on=completed_on, now=NOW)
    from dualcontrol.projects.rules import project_rules

    kinds = evidence if evidence is not None else project_rules().types[p.type_code].evidence
    for kind in kinds:
        services.upload_evidence(
            user=None, project=p, kind=kind, document=pdf(f"{kind}.pdf"), now=NOW
        )
    return p


def verified(*, figures: dict[str, Any], officer: Any = None, **kw: Any) -> Project:
    p = completed(**kw)
    outcome = services.verify_project(user=officer, project=p, figures=figures, now=NOW)
    assert outcome.verification.decision == "verified", outcome.verification.reason
    p.refresh_from_db()
    return p


def annual_rows(
    year: int = 2025, codes: tuple[str, ...] = ("530000", "530100", "530300", "530102")
) -> None:
    """Annual statistics rows (energy, GDP) the key-project reductions are written into."""
    for code in codes:
        RegionalStatistic.objects.create(
            division=division(code),
            year=year,
            energy_tce=Decimal("1000000"),
            gdp_10k_yuan=Decimal("2000000"),
            source="测试统计",
        )


def stat(code: str, year: int = 2025) -> dict[str, Any]:
    row = RegionalStatistic.objects.get(
        division__code=code,
        year=year,
        month__isnull=True,
        quarter__isnull=True,
        industry__isnull=True,
    )
    return dict(row.factors or {})
