"""REST endpoints of targets and the barometer (mounted at /api/targets); scoped like the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import File, Router, Schema
from ninja import Status as HttpStatus
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.pagination import paginate

from dualcontrol.access.rules import require
from dualcontrol.access.targets import alerts_for, visible_targets, visible_warnings
from dualcontrol.api_problems import WRITE_ERRORS, refusal
from dualcontrol.core.decomposition import Method as DecompositionCoreMethod
from dualcontrol.formats.upload_tables import TableRefused, read_limited
from dualcontrol.pagination import Mapped, PageNumberPagination
from dualcontrol.reference.catalogue import catalogue
from dualcontrol.targets import insight, services
from dualcontrol.targets.errors import StatisticsRejected
from dualcontrol.targets.models import Target, WarningRecord

router = Router(tags=["targets"])


def _staff(request: HttpRequest) -> None:
    require(request.user, "targets.view")


class TargetOut(Schema):
    id: int
    indicator: str
    indicator_name: str
    division_code: str | None
    entity_uscc: str | None
    holder: str
    period_kind: str
    base_year: int
    end_year: int
    quarter: int | None
    base_value: float
    incentive_value: float | None
    unit: str
    status: str
    source_document: str
    parent_id: int | None
    pace_definition: str
    progress_definition: str
    rule_set: str | None
    is_synthetic: bool


class TargetDetail(TargetOut):
    children: list[TargetOut]


class WarningOut(Schema):
    id: int
    target_id: int
    division_code: str
    division_name: str
    indicator: str
    year: int
    month: int
    stage: str
    level_id: str
    level_number: str
    level_name: str
    colour: str
    severity: int
    is_warning: bool
    unit: str
    required: float
    achieved: float
    gap: float
    gap_frac_of_required: float | None
    required_means: str
    measure: str
    band: str
    rule_set: str
    rule_set_version: str
    consequences: list[dict[str, Any]]
    figures: dict[str, Any]


class AlertOut(Schema):
    id: int
    created: dt.datetime
    subject: str
    body: str
    read_at: dt.datetime | None
    warning_id: int
    emailed_to: str


class RunIn(Schema):
    year: int
    month: int


class RunOut(Schema):
    year: int
    month: int
    rated: int
    created: int
    updated: int
    alerts: int
    emails: int
    by_colour: dict[str, int]
    skipped: int


class BarometerRegion(Schema):
    code: str
    name: str
    row: int
    col: int
    warning: WarningOut | None


class BarometerOut(Schema):
    plan: list[int] | None
    indicator: str
    period: list[int] | None
    root_code: str | None
    regions: list[BarometerRegion]


def _target(t: Target) -> dict[str, Any]:
    return {
        "id": t.pk,
        "indicator": t.indicator,
        "indicator_name": t.get_indicator_display(),
        "division_code": t.division.code if t.division_id else None,
        "entity_uscc": t.entity.uscc if t.entity_id else None,
        "holder": t.holder_name,
        "period_kind": t.period_kind,
        "base_year": t.base_year,
        "end_year": t.end_year,
        "quarter": t.quarter,
        "base_value": float(t.base_value),
        "incentive_value": None if t.incentive_value is None else float(t.incentive_value),
        "unit": t.unit,
        "status": t.status,
        "source_document": t.source_document,
        "parent_id": t.parent_id,
        "pace_definition": t.pace,
        "progress_definition": t.progress,
        "rule_set": t.rule_set.name if t.rule_set_id else None,
        "is_synthetic": t.is_synthetic,
    }


def _warning(w: WarningRecord) -> dict[str, Any]:
    return {
        "id": w.pk,
        "target_id": w.target_id,
        "division_code": w.division.code,
        "division_name": w.division.name,
        "indicator": w.indicator,
        "year": w.year,
        "month": w.month,
        "stage": w.stage,
        "level_id": w.level_id,
        "level_number": w.level_number,
        "level_name": w.level_name,
        "colour": w.colour,
        "severity": w.severity,
        "is_warning": w.is_warning,
        "unit": w.unit,
        "required": w.required,
        "achieved": w.achieved,
        "gap": w.gap,
        "gap_frac_of_required": w.gap_frac_of_required,
        "required_means": w.required_means,
        "measure": w.measure,
        "band": w.band,
        "rule_set": w.rule_set_name,
        "rule_set_version": w.rule_set_version,
        "consequences": w.consequences,
        "figures": w.figures,
    }


@router.get("/", response=list[TargetOut])
@paginate(PageNumberPagination, page_size=100)
def list_targets(
    request: HttpRequest,
    indicator: str | None = None,
    base_year: int | None = None,
    end_year: int | None = None,
    division: str | None = None,
) -> Any:
    _staff(request)
    qs = visible_targets(request.user).select_related("rule_set").order_by("-end_year", "id")
    if indicator:
        qs = qs.filter(indicator=indicator)
    if base_year:
        qs = qs.filter(base_year=base_year)
    if end_year:
        qs = qs.filter(end_year=end_year)
    if division:
        qs = qs.filter(division__path__contains=f"{division}/")
    return Mapped(qs, _target)


@router.get("/barometer", response=BarometerOut)
def barometer(
    request: HttpRequest,
    base_year: int | None = None,
    end_year: int | None = None,
    indicator: str = "intensity_reduction",
    year: int | None = None,
    month: int | None = None,
) -> Any:
    """Levels of the sub-regions (prefectures for the province, counties for a city) at a month,
    with their tile-grid position."""
    _staff(request)
    plan = (base_year, end_year) if base_year and end_year else None
    data = insight.dashboard(request.user, plan=plan, indicator=indicator, year=year, month=month)
    return {
        "plan": list(data["plan"]) if data["plan"] else None,
        "indicator": data["indicator"],
        "period": list(data["period"]) if data["period"] else None,
        "root_code": data["root"].code if data["root"] else None,
        "regions": [
            {
                "code": t.division.code,
                "name": t.division.name,
                "row": t.row,
                "col": t.col,
                "warning": _warning(t.warning) if t.warning else None,
            }
            for t in data["tiles"]
        ],
    }


@router.get("/warnings", response=list[WarningOut])
@paginate(PageNumberPagination, page_size=100)
def list_warnings(
    request: HttpRequest,
    year: int | None = None,
    month: int | None = None,
    indicator: str | None = None,
    colour: str | None = None,
    division: str | None = None,
) -> Any:
    _staff(request)
    qs = visible_warnings(request.user).order_by("-year", "-month", "division__code")
    if year:
        qs = qs.filter(year=year)
    if month:
        qs = qs.filter(month=month)
    if indicator:
        qs = qs.filter(indicator=indicator)
    if colour:
        qs = qs.filter(colour=colour)
    if division:
        qs = qs.filter(division__path__contains=f"{division}/")
    return Mapped(qs, _warning)


@router.post("/warnings/run", response=RunOut)
def run_warnings(request: HttpRequest, body: RunIn) -> Any:
    """Recompute the warnings of one month (province staff)."""
    require(request.user, "targets.run_warnings")
    try:
        summary = services.compute_warnings(year=body.year, month=body.month, user=request.user)
    except services.TargetError as exc:
        raise HttpError(422, str(exc)) from exc
    return summary.as_dict()


@router.get("/alerts", response=list[AlertOut])
@paginate(PageNumberPagination, page_size=100)
def list_alerts(request: HttpRequest, unread: bool = False) -> Any:
    _staff(request)
    qs = alerts_for(request.user)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return qs


@router.post("/alerts/{alert_id}/read", response=AlertOut)
def read_alert(request: HttpRequest, alert_id: int) -> Any:
    _staff(request)
    alert = get_object_or_404(alerts_for(request.user), pk=alert_id)
    return services.mark_alert_read(alert=alert, user=request.user)


class IndicatorOut(Schema):
    code: str
    name_zh: str
    name_en: str
    unit: str
    kind: str
    direction: str
    holders: list[str]
    metric: dict[str, Any]
    progress_definitions: list[str]
    progress_default: str
    pace_definitions: list[str]
    pace_default: str
    barometer_id: str
    rate_as: str
    default_rule_set: str | None
    decomposition_methods: list[str]
    assessment_sheets: list[str]
    bulletin_layout: str | None
    bulletin_column_zh: str
    source: str
    catalogue_version: str


class ProgressRowOut(Schema):
    year: int
    month: int
    label: str
    estimated: bool
    required: float
    achieved: float
    required_means: str
    progress_frac: float | None
    remaining: float | None
    status: str
    warning_colour: str | None


class ProgressOut(Schema):
    target_id: int
    indicator: str
    kind: str
    unit: str
    pace_definition: str
    progress_definition: str
    progress_formula: str
    rule_set: str
    sector: str | None
    rows: list[ProgressRowOut]
    forecast: dict[str, Any] | None
    problems: list[str]


@router.get("/indicators", response=list[IndicatorOut])
def list_indicators(request: HttpRequest) -> Any:
    """The indicator catalogue (指标目录): every indicator the platform tracks and its rules."""
    _staff(request)
    cat = catalogue()
    return [
        {
            "code": i.code,
            "name_zh": i.name_zh,
            "name_en": i.name_en,
            "unit": i.unit,
            "kind": i.kind.value,
            "direction": i.direction.value,
            "holders": list(i.holders),
            "metric": {
                "code": i.metric.code,
                "kind": i.metric.kind.value,
                "inputs": list(i.metric.inputs),
                "deductions": i.metric.deductions or None,
                "unit": i.metric.unit,
            },
            "progress_definitions": list(i.progress_definitions),
            "progress_default": i.progress_default,
            "pace_definitions": list(i.pace_definitions),
            "pace_default": i.pace_default,
            "barometer_id": i.barometer_id,
            "rate_as": i.rate_as,
            "default_rule_set": i.default_rule_set,
            "decomposition_methods": list(i.decomposition_methods),
            "assessment_sheets": list(i.assessment_sheets),
            "bulletin_layout": i.bulletin_layout,
            "bulletin_column_zh": i.bulletin_column_zh,
            "source": i.source,
            "catalogue_version": cat.version,
        }
        for i in cat.indicators.values()
    ]


# ---------------------------------------------------------------------------------------------
# writes: the page's services, rules and audit (docs/api.md lists each page write's operation)


class ImportedOut(Schema):
    rows: int


@router.post("/import", response={201: ImportedOut, **WRITE_ERRORS})
def import_targets(request: HttpRequest, file: File[UploadedFile]) -> Any:
    """Import targets from a file (CSV UTF-8/GB18030 or .xlsx, the columns of
    ``dualcontrol import targets``): refused whole with every problem (sheet, row, column)."""
    from dualcontrol.targets import target_import

    _staff(request)
    try:
        n = target_import.import_targets(
            data=read_limited(file, "statistics"), user=request.user, filename=file.name or ""
        )
    except TableRefused as exc:
        return refusal(422, "文件未导入", cells=exc.errors)
    except (StatisticsRejected, services.TargetError) as exc:
        return _refused(exc)
    return HttpStatus(201, {"rows": n})


@router.post("/statistics/import", response={201: ImportedOut, **WRITE_ERRORS})
def import_statistics(request: HttpRequest, file: File[UploadedFile]) -> Any:
    """Import regional statistics (the page 地区统计数据 → 导入): the same importer
    (``services.import_statistics``), province staff only; refused whole with every problem."""
    require(request.user, "targets.import_statistics")
    try:
        n = services.import_statistics(
            data=read_limited(file, "statistics"), user=request.user, filename=file.name or ""
        )
    except TableRefused as exc:
        return refusal(422, "文件未导入", cells=exc.errors)
    except (StatisticsRejected, services.TargetError) as exc:
        return _refused(exc)
    return HttpStatus(201, {"rows": n})


class TargetIn(Schema):
    """A target given as codes (as in the targets file of ``dualcontrol import targets``):
    ``division`` GB/T 2260 code, ``entity`` USCC, ``industry`` GB/T 4754 code, ``parent`` a target id,
    ``rule_set`` a rule-set name; numbers as numbers or text.  On PATCH only the fields given change."""

    indicator: str | None = None
    division: str | None = None
    entity: str | None = None
    industry: str | None = None
    parent: int | None = None
    period_kind: str | None = None
    base_year: int | None = None
    end_year: int | None = None
    quarter: int | None = None
    base_value: float | str | None = None
    incentive_value: float | str | None = None
    unit: str | None = None
    base_level: float | str | None = None
    source_document: str | None = None
    note: str | None = None
    pace_definition: str | None = None
    progress_definition: str | None = None
    rule_set: str | None = None
    barometer: bool | None = None
    status: str | None = None


def _target_values(
    request: HttpRequest, payload: TargetIn, *, required: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Model values of the fields given (codes resolved); every problem refused at once
    (``required``: fields that must be given, for a new target)."""
    from dualcontrol.targets import target_import

    raw = {k: v for k, v in payload.dict(exclude_unset=True).items()}
    if isinstance(raw.get("barometer"), bool):
        raw["barometer"] = "1" if raw["barometer"] else "0"
    values, problems = target_import.resolve(raw, request.user)
    for field in required:
        if field not in raw:
            problems.setdefault(field, "必填")
    if problems:
        raise _Refused(refusal(422, "目标未保存", fields=problems))
    return values


class _Refused(Exception):
    def __init__(self, response: Any):
        self.response = response


def _refused(exc: Exception) -> Any:
    if isinstance(exc, _Refused):
        return exc.response
    if isinstance(exc, services.NotAllowed):
        return refusal(403, str(exc))
    if isinstance(exc, StatisticsRejected):
        return refusal(422, "文件未导入", cells=exc.errors)
    return refusal(422, str(exc))


@router.post("/", response={201: TargetOut, **WRITE_ERRORS})
def create_target(request: HttpRequest, payload: TargetIn) -> Any:
    """Record a target (the page 新建目标): ``services.create_target`` — the same access rules
    (province: any; a city officer: below its city) and audit entry ``target.create``."""
    from dualcontrol.targets import target_import

    _staff(request)
    try:
        values = _target_values(request, payload, required=target_import.REQUIRED)
        t = services.create_target(user=request.user, **values)
    except (_Refused, services.TargetError) as exc:
        return _refused(exc)
    return HttpStatus(201, _target(t))


@router.patch("/{target_id}", response={200: TargetOut, **WRITE_ERRORS})
def update_target(request: HttpRequest, target_id: int, payload: TargetIn) -> Any:
    """Change a target (the page 修改目标): ``services.update_target``, audit ``target.update``."""
    _staff(request)
    t = get_object_or_404(visible_targets(request.user), pk=target_id)
    try:
        values = _target_values(request, payload)
        t = services.update_target(target=t, user=request.user, **values)
    except (_Refused, services.TargetError) as exc:
        return _refused(exc)
    return _target(t)


class DecompositionIn(Schema):
    """Adopt a decomposition (the workbench's 采用方案 A/B, or the allocation page's 采用).
    Intensity targets: ``method`` and optional ``params`` (the workbench's parameters,
    ``WorkbenchParams``; missing keys take the workbench's defaults).  Other kinds: ``method``,
    ``reserve``, ``manual`` (region code → amount) and ``allow_inconsistent``."""

    method: str
    params: dict[str, Any] = {}
    reserve: float = 0.0
    manual: dict[str, float] = {}
    allow_inconsistent: bool = False


#: the workbench's methods for intensity targets (the core's allocation methods)
WORKBENCH_METHODS = tuple(m.value for m in DecompositionCoreMethod)


class DecompositionOut(Schema):
    id: int
    method: str
    parent_target_id: int
    targets: list[TargetOut]


@router.post("/{target_id}/decomposition", response={201: DecompositionOut, **WRITE_ERRORS})
def adopt_decomposition(request: HttpRequest, target_id: int, payload: DecompositionIn) -> Any:
    """分解: ``services.adopt_decomposition`` (intensity) or ``adopt_allocation`` (other kinds),
    as the decomposition pages; the sub-regions' targets are written and audited."""
    _staff(request)
    t = get_object_or_404(visible_targets(request.user), pk=target_id)
    try:
        if services.is_intensity_reduction(t):
            if payload.method not in WORKBENCH_METHODS:
                raise _Refused(
                    refusal(
                        422,
                        "分解方法不适用",
                        fields={"method": f"{payload.method}: {', '.join(WORKBENCH_METHODS)}"},
                    )
                )
            rows = services.sub_regions(t)
            try:
                params = services.WorkbenchParams.from_dict(
                    payload.params, services.default_params(t, rows)
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise _Refused(
                    refusal(
                        422, "分解参数不正确", fields={"params": str(exc) or type(exc).__name__}
                    )
                ) from exc
            dec = services.adopt_decomposition(
                target=t, method=payload.method, params=params, user=request.user
            )
        else:
            if payload.method not in services.allocation_methods(t):
                raise _Refused(refusal(422, "分解方法不适用", fields={"method": payload.method}))
            dec = services.adopt_allocation(
                target=t,
                method=payload.method,
                user=request.user,
                reserve=payload.reserve,
                manual=payload.manual or None,
                allow_inconsistent=payload.allow_inconsistent,
            )
    except (_Refused, services.TargetError) as exc:
        return _refused(exc)
    children = dec.targets.select_related("rule_set", "division", "entity")
    return HttpStatus(
        201,
        {
            "id": dec.pk,
            "method": dec.method,
            "parent_target_id": t.pk,
            "targets": [_target(c) for c in children],
        },
    )


class LetterOut(Schema):
    id: int
    number: str
    status: str


class SignIn(Schema):
    signed_on: dt.date
    issuer_signatory: str
    party_signatory: str


@router.post("/{target_id}/letter", response={201: LetterOut, **WRITE_ERRORS})
def generate_letter(request: HttpRequest, target_id: int) -> Any:
    """目标责任书: ``services.generate_letter`` (the target page's 生成责任书)."""
    _staff(request)
    t = get_object_or_404(visible_targets(request.user), pk=target_id)
    try:
        letter = services.generate_letter(target=t, user=request.user)
    except services.TargetError as exc:
        return _refused(exc)
    return HttpStatus(201, {"id": letter.pk, "number": letter.number, "status": letter.status})


@router.post("/letters/{letter_id}/sign", response={200: LetterOut, **WRITE_ERRORS})
def sign_letter(request: HttpRequest, letter_id: int, payload: SignIn) -> Any:
    """Record a signed letter: ``services.sign_letter`` (the letter page's 登记签订)."""
    _staff(request)
    letter = get_object_or_404(services.visible_letters(request.user), pk=letter_id)
    problems = {
        k: "必填"
        for k in ("issuer_signatory", "party_signatory")
        if not getattr(payload, k).strip()
    }
    if problems:
        return refusal(422, "签订信息不完整", fields=problems)
    try:
        letter = services.sign_letter(letter=letter, user=request.user, **payload.dict())
    except services.TargetError as exc:
        return _refused(exc)
    return {"id": letter.pk, "number": letter.number, "status": letter.status}


@router.get("/{target_id}/progress", response=ProgressOut)
def target_progress(request: HttpRequest, target_id: int, granularity: str = "month") -> Any:
    """Progress of one target against its pace (any catalogue indicator), with the forecast."""
    _staff(request)
    t = get_object_or_404(visible_targets(request.user), pk=target_id)
    if t.division_id is None:
        raise HttpError(404, "progress is tracked for regional targets")
    if granularity not in ("month", "quarter", "year"):
        raise HttpError(422, "granularity must be month, quarter or year")
    data = insight.region_progress(t, granularity=granularity)
    forecast = data["forecast"]
    return {
        "target_id": t.pk,
        "indicator": t.indicator,
        "kind": data["kind"],
        "unit": data["unit"],
        "pace_definition": t.pace,
        "progress_definition": t.progress,
        "progress_formula": data["progress_formula"],
        "rule_set": data["rule_set"].name,
        "sector": t.industry.code if t.industry_id else None,
        "rows": [
            {
                "year": r["year"],
                "month": r["month"],
                "label": str(r["label"]),
                "estimated": r["estimated"],
                "required": r["required"],
                "achieved": r["achieved"],
                "required_means": str(r["required_means"]),
                "progress_frac": None if r["progress_pct"] is None else r["progress_pct"] / 100,
                "remaining": r["remaining"],
                "status": r["status"],
                "warning_colour": r["warning"].colour if r["warning"] else None,
            }
            for r in data["rows"]
        ],
        "forecast": None
        if forecast is None
        else {
            k: v
            for k, v in forecast.items()
            if k != "forecast" and isinstance(v, int | float | bool | type(None))
        },
        "problems": [str(e) for e in data["errors"]],
    }


@router.get("/{target_id}", response=TargetDetail)
def get_target(request: HttpRequest, target_id: int) -> Any:
    _staff(request)
    t = get_object_or_404(visible_targets(request.user).select_related("rule_set"), pk=target_id)
    children = visible_targets(request.user).filter(parent=t).select_related("rule_set")
    return {**_target(t), "children": [_target(c) for c in children]}
