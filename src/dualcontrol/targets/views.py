"""Pages of targets, decomposition, progress and the barometer (thin: services + insight)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dualcontrol import uploads_annotate
from dualcontrol.access.rules import rule_required
from dualcontrol.access.scope import visible_divisions, visible_entities
from dualcontrol.access.targets import (
    alerts_for,
    can_decompose,
    can_edit_target,
    is_province,
    visible_statistics,
    visible_targets,
    visible_warnings,
)
from dualcontrol.core.decomposition import DecompositionError
from dualcontrol.exports import xlsx_response
from dualcontrol.formats.upload_tables import TableRefused, read_limited
from dualcontrol.redirects import redirect_next
from dualcontrol.rollups import queries as rollup_queries
from dualcontrol.targets import indicators as catalogue_view
from dualcontrol.targets import insight, services
from dualcontrol.targets.forms import (
    SignForm,
    StatisticsUploadForm,
    TargetForm,
    WarnRunForm,
    WorkbenchForm,
)
from dualcontrol.targets.models import (
    DecompositionMethod,
    ResponsibilityLetter,
    Target,
    TargetStatus,
    indicator_choices,
)

PAGE_SIZE = 50


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def _pct(x: float | None) -> float | None:
    return None if x is None else round(x * 100, 2)


def _fig(value: float | None, unit: str) -> float | None:
    if value is None:
        return None
    return round(value * 100, 3) if unit == "frac" else round(value, 0)


# ---------------------------------------------------------------------------------------------
# dashboard


@rule_required("targets.view")
def dashboard(request: HttpRequest) -> HttpResponse:
    plan = None
    if request.GET.get("plan", "").count("-") == 1:
        a, b = request.GET["plan"].split("-")
        if a.isdigit() and b.isdigit():
            plan = (int(a), int(b))
    ym = request.GET.get("period", "")
    year = month = None
    if ym.count("-") == 1 and all(p.isdigit() for p in ym.split("-")):
        year, month = (int(p) for p in ym.split("-"))
    data = insight.dashboard(
        request.user,
        plan=plan,
        indicator=request.GET.get("indicator") or "intensity_reduction",
        year=year,
        month=month,
    )
    if request.GET.get("export") == "xlsx":
        headers = [
            _("地区"),
            _("区划代码"),
            _("目标（%或吨标准煤）"),
            _("要求值"),
            _("实际值"),
            _("差距"),
            _("差距占目标值（%）"),
            _("完成进度（%）"),
            _("预警等级"),
            _("规则集"),
        ]
        rows = (
            [
                r["division"].name,
                r["division"].code,
                float(r["target"].base_value) if r["target"] else None,
                _fig(r["warning"].required, r["warning"].unit),
                _fig(r["warning"].achieved, r["warning"].unit),
                _fig(r["warning"].gap, r["warning"].unit),
                _pct(r["warning"].gap_frac_of_required),
                r["progress_pct"],
                r["warning"].level_label,
                r["warning"].rule_set_name,
            ]
            for r in data["ranking"]
        )
        return xlsx_response("barometer-ranking.xlsx", "ranking", headers, rows, user=request.user)
    geo = insight.geojson_path(data["root"])
    geo_data = [
        {
            "name": t.division.name,
            "value": _fig(t.warning.achieved, t.warning.unit) if t.warning else None,
            "itemStyle": {"areaColor": t.fill},
        }
        for t in data["tiles"]
    ]
    return render(
        request,
        "targets/dashboard.html",
        {
            **data,
            "geojson": geo is not None,
            "geo_data": geo_data,
            "indicator_labels": catalogue_view.barometer_labels(),
            "filters": {
                "plan": f"{data['plan'][0]}-{data['plan'][1]}" if data["plan"] else "",
                "indicator": data["indicator"],
                "period": f"{data['period'][0]}-{data['period'][1]}" if data["period"] else "",
            },
        },
    )


@rule_required("targets.view")
def geojson(request: HttpRequest, code: str) -> HttpResponse:
    """An operator-installed, approved boundary file (DATA_DIR/geo/<code>.json)."""
    division = visible_divisions(request.user).filter(code=code).first()
    path = insight.geojson_path(division)
    if path is None:
        raise Http404
    return FileResponse(path.open("rb"), content_type="application/geo+json")


# ---------------------------------------------------------------------------------------------
# targets


def _target_filters(
    request: HttpRequest, qs: QuerySet[Target]
) -> tuple[QuerySet[Target], dict[str, str]]:
    f = {
        k: request.GET.get(k, "").strip()
        for k in ("indicator", "period", "division", "status", "q")
    }
    if f["indicator"] in catalogue_view.by_code():
        qs = qs.filter(indicator=f["indicator"])
    if f["period"].count("-") == 1 and all(p.isdigit() for p in f["period"].split("-")):
        a, b = (int(p) for p in f["period"].split("-"))
        qs = qs.filter(base_year=a, end_year=b)
    if f["division"].isdigit():
        qs = qs.filter(division__path__contains=f"{f['division']}/") | qs.filter(
            entity__division__path__contains=f"{f['division']}/"
        )
    if f["status"] in TargetStatus.values:
        qs = qs.filter(status=f["status"])
    if f["q"]:
        qs = qs.filter(division__name__icontains=f["q"]) | qs.filter(entity__name__icontains=f["q"])
    return qs, f


def _targets_xlsx(filename: str, qs: Any) -> HttpResponse:
    headers = [
        _("编号"),
        _("地区或单位"),
        _("区划代码"),
        _("指标"),
        _("周期"),
        _("期间"),
        _("基本目标"),
        _("激励目标"),
        _("单位"),
        _("基期值"),
        _("状态"),
        _("来源文件"),
        _("上级目标编号"),
        _("演示数据"),
    ]
    rows = (
        [
            t.pk,
            t.holder_name,
            t.holder_division.code,
            t.get_indicator_display(),
            t.get_period_kind_display(),
            t.period_label,
            float(t.base_value),
            float(t.incentive_value) if t.incentive_value is not None else None,
            t.unit,
            float(t.base_level) if t.base_level is not None else None,
            t.get_status_display(),
            t.source_document,
            t.parent_id,
            _("是") if t.is_synthetic else "",
        ]
        for t in qs
    )
    return xlsx_response(filename, "targets", headers, rows)


@rule_required("targets.view")
def target_list(request: HttpRequest) -> HttpResponse:
    qs = visible_targets(request.user).order_by("-end_year", "division__code", "indicator", "id")
    qs, filters = _target_filters(request, qs)
    if request.GET.get("export") == "xlsx":
        return _targets_xlsx("targets.xlsx", qs)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    periods = [
        (f"{a}-{b}", f"{a}→{b}")
        for a, b in visible_targets(request.user)
        .order_by("-base_year", "-end_year")
        .values_list("base_year", "end_year")
        .distinct()
    ]
    return render(
        request,
        "targets/target_list.html",
        {
            "page": page,
            "filters": filters,
            "indicators": indicator_choices(),
            "statuses": TargetStatus.choices,
            "periods": periods,
            "can_create": True,
        },
    )


def _target(request: HttpRequest, pk: int) -> Target:
    return get_object_or_404(
        visible_targets(request.user).select_related("parent", "rule_set"), pk=pk
    )


@rule_required("targets.view")
def target_detail(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target(request, pk)
    chain, descendants = services.hierarchy(target, request.user)
    if request.GET.get("export") == "xlsx":
        return _targets_xlsx(
            f"target-{target.pk}-hierarchy.xlsx", [target] + [t for _, t in descendants]
        )
    letters = ResponsibilityLetter.objects.filter(targets=target).distinct()
    return render(
        request,
        "targets/target_detail.html",
        {
            "target": target,
            "chain": chain,
            "descendants": descendants,
            "letters": letters,
            "decompositions": target.decompositions.all()[:10],
            "can_edit": can_edit_target(request.user, target),
            "can_decompose": can_decompose(request.user, target)
            and bool(target.definition.decomposition_methods),
            "can_letter": target.holder_division.parent_id is not None or target.entity_id,
            "has_progress": bool(target.division_id),
        },
    )


def _form_querysets(user: Any) -> dict[str, Any]:
    return {
        "divisions": visible_divisions(user).order_by("code"),
        "entities": visible_entities(user).order_by("name"),
        "parents": visible_targets(user),
    }


@rule_required("targets.view")
def target_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    target = _target(request, pk) if pk else None
    if target is not None and not can_edit_target(request.user, target):
        raise PermissionDenied
    form = TargetForm(
        request.POST or None,
        instance=target,
        initial=None if target else {"parent": request.GET.get("parent")},
        **_form_querysets(request.user),
    )
    if request.method == "POST" and form.is_valid():
        values = {k: form.cleaned_data[k] for k in form.Meta.fields}
        try:
            if target is None:
                saved = services.create_target(user=request.user, **values)
            else:
                saved = services.update_target(target=target, user=request.user, **values)
        except services.TargetError as exc:  # NotAllowed included: say why, keep the form
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("目标已保存。"))
            return redirect("targets:detail", saved.pk)
    return render(request, "targets/target_form.html", {"form": form, "target": target})


# ---------------------------------------------------------------------------------------------
# decomposition workbench


@rule_required("targets.view")
def workbench(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target(request, pk)
    if not can_decompose(request.user, target):
        raise PermissionDenied
    if not services.is_intensity_reduction(target):
        return redirect("targets:allocate", target.pk)
    rows = services.sub_regions(target)
    defaults = services.default_params(target, rows)
    current = target.decompositions.filter(is_current=True).first()
    data = (
        request.POST
        if request.method == "POST"
        else (request.GET if "method_a" in request.GET else None)
    )
    form = WorkbenchForm(data, rows=rows, defaults=defaults)
    if data is None:
        form = WorkbenchForm(
            {k: v for k, v in _initial_data(form).items()}, rows=rows, defaults=defaults
        )
    results: dict[str, Any] = {}
    if form.is_valid():
        params = form.params()
        if request.method == "POST" and request.POST.get("adopt") in ("a", "b"):
            method = form.cleaned_data[f"method_{request.POST['adopt']}"]
            try:
                dec = services.adopt_decomposition(
                    target=target, method=method, params=params, user=request.user
                )
            except services.NotAllowed as exc:
                raise PermissionDenied(str(exc)) from exc
            except services.TargetError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request,
                    _("已采用%(method)s，写入 %(n)s 个下级目标。")
                    % {"method": dec.get_method_display(), "n": dec.targets.count()},
                )
                return redirect("targets:detail", target.pk)
        for side in ("a", "b"):
            method = form.cleaned_data[f"method_{side}"]
            try:
                allocation = services.run_method(target, method, params, rows)
            except DecompositionError as exc:
                results[side] = {"method": method, "error": str(exc)}
            else:
                results[side] = {
                    "method": method,
                    **services.allocation_summary(allocation, rows),
                }
            results[side]["label"] = DecompositionMethod(method).label
    comparison = _comparison(rows, results)
    if request.GET.get("export") == "xlsx":
        headers = [
            _("地区"),
            _("基期能耗（吨标准煤）"),
            _("基期GDP（万元）"),
            _("基期强度"),
            f"A {results.get('a', {}).get('label', '')} (%)",
            f"B {results.get('b', {}).get('label', '')} (%)",
            _("A 增量（吨标准煤）"),
            _("B 增量（吨标准煤）"),
        ]
        return xlsx_response(
            f"decomposition-{target.pk}.xlsx",
            "comparison",
            headers,
            (
                [
                    c["row"].division.name,
                    c["row"].energy_tce,
                    c["row"].gdp_10k_yuan,
                    c["row"].intensity,
                    c["a"]["target_pct"] if c["a"] else None,
                    c["b"]["target_pct"] if c["b"] else None,
                    c["a"]["increment_tce"] if c["a"] else None,
                    c["b"]["increment_tce"] if c["b"] else None,
                ]
                for c in comparison
            ),
            user=request.user,
        )
    _cap, cap_target = services.total_cap_for(target, 0)
    template = (
        "targets/_comparison.html"
        if request.headers.get("HX-Request")
        else "targets/workbench.html"
    )
    query = (
        (data or {}).copy()
        if data is not None and hasattr(data, "copy")
        else QueryDict(mutable=True)
    )
    for k in ("csrfmiddlewaretoken", "adopt", "compare", "export", "page"):
        query.pop(k, None)
    chart = None
    if results.get("a", {}).get("targets") or results.get("b", {}).get("targets"):
        chart = {
            "names": [c["row"].division.name for c in comparison],
            "a": f"A {results['a']['label']}",
            "b": f"B {results['b']['label']}",
            "av": [round(c["a"]["target_pct"], 2) if c["a"] else None for c in comparison],
            "bv": [round(c["b"]["target_pct"], 2) if c["b"] else None for c in comparison],
            "p": _("上级目标"),
            "pv": [float(target.base_value)] * len(comparison),
        }
    is_co2 = target.definition.metric.amount_column == "co2_t"
    return render(
        request,
        template,
        {
            "target": target,
            "is_co2": is_co2,
            "amount_label": _("万吨二氧化碳") if is_co2 else _("万吨标准煤"),
            "form": form,
            "rows": rows,
            "results": results,
            "comparison": comparison,
            "comparison_chart": chart,
            "current": current,
            "cap_target": cap_target,
            "query": query.urlencode() if isinstance(query, QueryDict) else "",
        },
    )


def _initial_data(form: WorkbenchForm) -> dict[str, Any]:
    out = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if callable(value):
            value = value()
        if value is not None:
            out[name] = value
    return out


def _comparison(rows: list[services.BaseRow], results: dict[str, Any]) -> list[dict[str, Any]]:
    by = {side: {t["code"]: t for t in res.get("targets", [])} for side, res in results.items()}
    out = []
    for r in rows:
        a = by.get("a", {}).get(r.division.code)
        b = by.get("b", {}).get(r.division.code)
        out.append(
            {
                "row": r,
                "a": a,
                "b": b,
                "diff": None if not (a and b) else b["target_pct"] - a["target_pct"],
            }
        )
    return out


# ---------------------------------------------------------------------------------------------
# progress and drill-down


@rule_required("targets.view")
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target(request, pk)
    if target.division_id is None:
        raise Http404
    granularity = request.GET.get("granularity", "month")
    if granularity not in ("month", "quarter", "year"):
        granularity = "month"
    data = insight.region_progress(target, granularity=granularity)
    if request.GET.get("export") == "xlsx":
        headers = [
            _("期间"),
            _("能源消费量（1–M月累计，吨标准煤）"),
            _("GDP 实际增长（%）"),
            _("本年强度降低（同比，%）"),
            _("累计强度降低（%）"),
            _("序时进度要求"),
            _("时间进度（%）"),
            _("完成进度（%）"),
            _("完成进度口径"),
            _("预警等级"),
        ]
        rows = (
            [
                r["label"],
                round(r["ytd_energy_tce"], 0),
                r["ytd_growth_pct"],
                r["current_reduction_pct"],
                r["cumulative_reduction_pct"],
                r["required_pct"] if data["is_intensity"] else r["required_tce"],
                r["time_pace_pct"],
                r["progress_pct"],
                data["progress_label"],
                r["warning"].level_label if r["warning"] else "",
            ]
            for r in data["rows"]
        )
        return xlsx_response(
            f"progress-{target.pk}.xlsx", "progress", headers, rows, user=request.user
        )
    latest = data["latest"]
    return render(
        request,
        "targets/progress.html",
        {
            **data,
            "drill_year": latest["year"] if latest else None,
            "drill_month": latest["month"] if latest else None,
        },
    )


@rule_required("targets.view")
def drilldown(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target(request, pk)
    if target.division_id is None:
        raise Http404
    year, month = _int(request.GET.get("year")), _int(request.GET.get("month"))
    if year is None or month is None or not 1 <= month <= 12:
        w = target.warnings.order_by("-year", "-month").first()
        if w is None:
            latest = services.latest_statistics_month([target.division_id])
            if latest is None:
                raise Http404
            year, month = latest
        else:
            year, month = w.year, w.month
    data = insight.drilldown(target, request.user, year=year, month=month)
    what = request.GET.get("export")
    if what in ("units", "sectors", "counties") and not data.get("error"):
        headers = [
            _("名称"),
            _("单位数"),
            _("本期能耗（吨标准煤）"),
            _("按要求允许（吨标准煤）"),
            _("超出（吨标准煤）"),
            _("同比增长（%）"),
            _("占地区差距（%）"),
            _("上年同期为估算"),
        ]
        rows = (
            [
                c.name,
                c.units,
                round(c.current_tce, 1),
                round(c.allowed_tce, 1),
                round(c.excess_tce, 1),
                _pct(c.growth_frac),
                _pct(c.share_of_gap_frac),
                _("是") if c.previous_estimated else "",
            ]
            for c in data[what]
        )
        return xlsx_response(
            f"drilldown-{target.pk}-{what}.xlsx", what, headers, rows, user=request.user
        )
    units = data.get("units") or []
    page = Paginator(units, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "targets/drilldown.html",
        {
            **data,
            "page": page,
            "filters": {"year": year, "month": month},
            "freshness": rollup_queries.freshness(),
        },
    )


@rule_required("targets.view")
def allocate(request: HttpRequest, pk: int) -> HttpResponse:
    """分解 of a non-intensity target (caps, budgets, totals, shares, levels, amounts, peaks)."""
    target = _target(request, pk)
    if not can_decompose(request.user, target):
        raise PermissionDenied
    if services.is_intensity_reduction(target):
        return redirect("targets:workbench", target.pk)
    methods = services.allocation_methods(target)
    if not methods:
        raise Http404
    data = request.POST if request.method == "POST" else request.GET
    method = data.get("method") or methods[0]
    reserve = _float(data.get("reserve")) or 0.0
    manual: dict[str, float] = {}
    for key, value in data.items():
        if key.startswith("manual_") and _float(value) is not None:
            manual[key.removeprefix("manual_")] = _float(value) or 0.0
    preview = None
    error = ""
    try:
        preview = services.preview_allocation(
            target, method, reserve=reserve, manual=manual or None
        )
    except services.TargetError as exc:
        error = str(exc)
        if method == "manual" and not manual:
            try:  # start the officer's figures from the proportional or uniform split
                preview = services.preview_allocation(target, methods[0], reserve=reserve)
            except services.TargetError:
                preview = None
    if request.method == "POST" and request.POST.get("adopt"):
        try:
            dec = services.adopt_allocation(
                target=target,
                method=method,
                user=request.user,
                reserve=reserve,
                manual=manual or None,
                allow_inconsistent=request.POST.get("allow_inconsistent") == "1",
            )
        except services.TargetError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("已采用分解方案 #%(id)s，下级目标 %(n)s 个。")
                % {"id": dec.pk, "n": dec.targets.count()},
            )
            return redirect("targets:detail", target.pk)
    return render(
        request,
        "targets/allocate.html",
        {
            "target": target,
            "indicator_name": catalogue_view.name(target.definition),
            "methods": [(m, DecompositionMethod(m).label) for m in methods],
            "method": method,
            "reserve": reserve,
            "preview": preview,
            "error": error,
            "unit": target.definition.warning_unit,
            "current": target.decompositions.filter(is_current=True).first(),
        },
    )


def _float(value: str | None) -> float | None:
    try:
        return float((value or "").replace(",", "").strip())
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# responsibility letters


@rule_required("targets.view")
@require_POST
def letter_generate(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target(request, pk)
    try:
        letter = services.generate_letter(target=target, user=request.user)
    except services.NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except services.TargetError as exc:
        messages.error(request, str(exc))
        return redirect("targets:detail", target.pk)
    messages.success(request, _("责任书已生成：%(n)s") % {"n": letter.number})
    return redirect("targets:letter", letter.pk)


def _visible_letters(user: Any) -> QuerySet[ResponsibilityLetter]:
    return services.visible_letters(user)  # type: ignore[no-any-return]


@rule_required("targets.view")
def letter_list(request: HttpRequest) -> HttpResponse:
    qs = _visible_letters(request.user).order_by("-generated_at", "-id")
    f = {k: request.GET.get(k, "").strip() for k in ("status", "q")}
    if f["status"] in ("generated", "signed"):
        qs = qs.filter(status=f["status"])
    if f["q"]:
        qs = qs.filter(title__icontains=f["q"]) | qs.filter(number__icontains=f["q"])
    if request.GET.get("export") == "xlsx":
        headers = [
            _("编号"),
            _("标题"),
            _("下达方"),
            _("责任方"),
            _("状态"),
            _("签订日期"),
            _("内容摘要"),
        ]
        rows = (
            [
                lt.number,
                lt.title_label,
                lt.issuer.name,
                (lt.entity or lt.division).name,
                lt.get_status_display(),
                lt.signed_on.isoformat() if lt.signed_on else "",
                lt.content_sha256,
            ]
            for lt in qs
        )
        return xlsx_response("letters.xlsx", "letters", headers, rows, user=request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "targets/letter_list.html", {"page": page, "filters": f})


@rule_required("targets.view")
def letter_detail(request: HttpRequest, pk: int) -> HttpResponse:
    letter = get_object_or_404(_visible_letters(request.user), pk=pk)
    can_sign = letter.status == "generated" and (
        is_province(request.user)
        or letter.issuer.path.startswith(getattr(request.user.division, "path", "\0"))
    )
    return render(
        request,
        "targets/letter.html",
        {
            "letter": letter,
            "c": services.letter_display(letter),
            "form": SignForm(),
            "can_sign": can_sign,
        },
    )


@rule_required("targets.view")
@require_POST
def letter_sign(request: HttpRequest, pk: int) -> HttpResponse:
    letter = get_object_or_404(_visible_letters(request.user), pk=pk)
    form = SignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请完整填写签订信息。"))
        return redirect("targets:letter", letter.pk)
    try:
        services.sign_letter(letter=letter, user=request.user, **form.cleaned_data)
    except services.NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except services.TargetError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已登记签订。"))
    return redirect("targets:letter", letter.pk)


# ---------------------------------------------------------------------------------------------
# warnings and alerts


@rule_required("targets.view")
def warning_list(request: HttpRequest) -> HttpResponse:
    qs = visible_warnings(request.user).order_by("-year", "-month", "-severity", "division__code")
    f = {
        k: request.GET.get(k, "").strip()
        for k in ("year", "month", "indicator", "colour", "division", "rule_set", "warning")
    }
    if f["year"].isdigit():
        qs = qs.filter(year=int(f["year"]))
    if f["month"].isdigit():
        qs = qs.filter(month=int(f["month"]))
    if f["indicator"] in catalogue_view.by_barometer_id():
        qs = qs.filter(indicator=f["indicator"])
    if f["colour"] in insight.PALETTE:
        qs = qs.filter(colour=f["colour"])
    if f["division"].isdigit():
        qs = qs.filter(division__path__contains=f"{f['division']}/")
    if f["rule_set"]:
        qs = qs.filter(rule_set_name=f["rule_set"])
    if f["warning"] == "1":
        qs = qs.filter(is_warning=True)
    if request.GET.get("export") == "xlsx":
        headers = [
            _("地区"),
            _("区划代码"),
            _("期间"),
            _("指标"),
            _("预警等级"),
            _("颜色"),
            _("要求值"),
            _("实际值"),
            _("差距"),
            _("差距占目标值（%）"),
            _("要求值含义"),
            _("规则集"),
            _("规则集版本"),
            _("命中区间"),
            _("附带措施"),
        ]
        rows = (
            [
                w.division.name,
                w.division.code,
                w.period_label,
                catalogue_view.barometer_labels().get(w.indicator, w.indicator),
                w.level_label,
                w.colour,
                _fig(w.required, w.unit),
                _fig(w.achieved, w.unit),
                _fig(w.gap, w.unit),
                _pct(w.gap_frac_of_required),
                w.required_means_label,
                w.rule_set_name,
                w.rule_set_version,
                w.band,
                w.consequences_text,
            ]
            for w in qs.iterator(chunk_size=1000)
        )
        return xlsx_response("warnings.xlsx", "warnings", headers, rows, user=request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rule_sets = list(  # the distinct names from the database, not every warning (issue 18)
        visible_warnings(request.user)
        .order_by("rule_set_name")
        .values_list("rule_set_name", flat=True)
        .distinct()
    )
    return render(
        request,
        "targets/warning_list.html",
        {
            "page": page,
            "filters": f,
            "indicator_labels": catalogue_view.barometer_labels(),
            "colours": list(insight.PALETTE),
            "rule_sets": rule_sets,
            "run_form": WarnRunForm(initial=_latest_initial())
            if is_province(request.user)
            else None,
        },
    )


def _latest_initial() -> dict[str, int]:
    latest = services.latest_statistics_month()
    if latest is None:
        today = dt.date.today()
        return {"year": today.year, "month": today.month}
    return {"year": latest[0], "month": latest[1]}


@rule_required("targets.run_warnings")
@require_POST
def warning_run(request: HttpRequest) -> HttpResponse:
    form = WarnRunForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写年份和月份。"))
        return redirect("targets:warnings")
    # a background job (the run rates every target and alerts by mail): the page answers at once
    # and the officer follows the run on its status page
    from dualcontrol.jobs.services import start_job

    job = start_job(
        kind="warnings.run",
        params={"year": form.cleaned_data["year"], "month": form.cleaned_data["month"]},
        user=request.user,
    )
    return redirect("jobs:detail", pk=job.pk)


@rule_required("targets.view")
def alert_list(request: HttpRequest) -> HttpResponse:
    qs = alerts_for(request.user)
    f = {"unread": request.GET.get("unread", "").strip()}
    if f["unread"] == "1":
        qs = qs.filter(read_at__isnull=True)
    if request.GET.get("export") == "xlsx":
        headers = [_("时间"), _("主题"), _("内容"), _("已读"), _("邮件地址"), _("邮件发送时间")]
        rows = (
            [
                a.created.strftime("%Y-%m-%d %H:%M"),
                a.subject,
                a.body,
                _("是") if a.read_at else "",
                a.emailed_to,
                a.emailed_at.strftime("%Y-%m-%d %H:%M") if a.emailed_at else "",
            ]
            for a in qs
        )
        return xlsx_response("alerts.xlsx", "alerts", headers, rows, user=request.user)
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "targets/alerts.html",
        {
            "page": page,
            "filters": f,
            "unread": alerts_for(request.user).filter(read_at__isnull=True).count(),
        },
    )


@rule_required("targets.view")
@require_POST
def alert_read(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(alerts_for(request.user), pk=pk)
    services.mark_alert_read(alert=alert, user=request.user)
    return redirect_next(request, "targets:alerts")


# ---------------------------------------------------------------------------------------------
# regional statistics


@rule_required("targets.view", post="targets.import_statistics")
def statistics(request: HttpRequest) -> HttpResponse:
    form = StatisticsUploadForm()
    refusal: uploads_annotate.Refusal | None = None
    if request.method == "POST":
        form = StatisticsUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            data: bytes | None = None
            try:
                # the size is checked before the file is read (the limit is reference data)
                data = read_limited(upload, "statistics")
                n = services.import_statistics(data=data, user=request.user, filename=upload.name)
            except (services.StatisticsRejected, TableRefused) as exc:
                problems = exc.errors
                # every problem, capped on the page, all of them in the annotated copy
                refusal = uploads_annotate.refusal(
                    problems, data=data, filename=upload.name, kind="statistics", user=request.user
                )
                messages.error(
                    request,
                    _("文件未导入：共 %(n)s 处错误，请改正后重新上传。") % {"n": len(problems)},
                )
            else:
                messages.success(request, _("已导入 %(n)s 行地区统计数据。") % {"n": n})
                return redirect("targets:statistics")
    qs = (
        visible_statistics(request.user)
        .select_related("division", "industry")
        .order_by("division__code", "industry__code", "-year", "-month", "-quarter")
    )
    f = {k: request.GET.get(k, "").strip() for k in ("division", "year", "kind")}
    if f["division"].isdigit():
        qs = qs.filter(division__path__contains=f"{f['division']}/")
    if f["year"].isdigit():
        qs = qs.filter(year=int(f["year"]))
    if f["kind"] == "annual":
        qs = qs.filter(month__isnull=True, quarter__isnull=True)
    elif f["kind"] == "month":
        qs = qs.filter(month__isnull=False)
    elif f["kind"] == "quarter":
        qs = qs.filter(quarter__isnull=False)
    if request.GET.get("export") == "xlsx":
        # every other column present in the selection, catalogue columns first (the layout
        # the import reads back)
        present: set[str] = set()
        for factors in qs.values_list("factors", flat=True).iterator(chunk_size=2000):
            present.update(factors or {})
        known = [c for c in catalogue_view.catalogue().statistics if c in present]
        others = known + sorted(present - set(known))
        headers = [
            "region",
            "industry",
            "year",
            "month",
            "quarter",
            "energy_tce",
            "gdp_10k_yuan",
            "gdp_real_growth_pct",
            *others,
            "source",
            _("地区"),
            _("演示数据"),
        ]
        rows = (
            [
                s.division.code,
                s.industry.code if s.industry_id else None,
                s.year,
                s.month,
                s.quarter,
                float(s.energy_tce),
                float(s.gdp_10k_yuan),
                float(s.gdp_real_growth_pct) if s.gdp_real_growth_pct is not None else None,
                *[(s.factors or {}).get(c) for c in others],
                s.source,
                s.division.name,
                _("是") if s.is_synthetic else "",
            ]
            for s in qs.select_related("industry").iterator(chunk_size=1000)
        )
        return xlsx_response(
            "regional-statistics.xlsx", "statistics", headers, rows, user=request.user
        )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "targets/statistics.html",
        {
            "page": page,
            "filters": f,
            "form": form,
            "refusal": refusal,
            "can_import": is_province(request.user),
            "divisions": visible_divisions(request.user).exclude(level="county").order_by("code"),
        },
    )
