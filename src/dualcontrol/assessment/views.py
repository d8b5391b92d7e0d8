"""Pages of the annual assessment (thin: access checks, forms, then services)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dualcontrol.access import assessment as access
from dualcontrol.access.rules import allows, rule_required
from dualcontrol.assessment import services
from dualcontrol.assessment.forms import (
    CertifyForm,
    CloseForm,
    DateForm,
    EvidenceForm,
    InterviewForm,
    ReasonForm,
    RespondForm,
    RoundForm,
)
from dualcontrol.assessment.models import (
    AssessmentRecord,
    Consequence,
    ConsequenceStatus,
    Evidence,
    RecordStatus,
    ScoringSheet,
)
from dualcontrol.exports import xlsx_response
from dualcontrol.uploads import download

PAGE_SIZE = 50


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _problems(request: HttpRequest, exc: Exception) -> None:
    if isinstance(exc, services.Rejected):
        for k, v in exc.problems.items():
            messages.error(request, f"{k}: {v}" if k not in ("file", "text", "note") else v)
    else:
        messages.error(request, str(exc))


# ---------------------------------------------------------------------------------------------
# rounds


@rule_required("assessment.view")
def round_list(request: HttpRequest) -> HttpResponse:
    qs = (
        access.visible_rounds(request.user)
        .select_related("assessor", "sheet")
        .order_by("-year", "assessor__code", "-id")
    )
    year = request.GET.get("year", "").strip()
    if year.isdigit():
        qs = qs.filter(year=int(year))
    filters = {"year": year}
    if request.GET.get("export") == "xlsx":
        return _records_export(
            "assessment.xlsx", access.visible_records(request.user).filter(round__in=qs)
        )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    records = access.visible_records(request.user)
    counts = {}
    for r in page:
        mine = records.filter(round=r)
        counts[r.pk] = {
            "total": mine.count(),
            "signed": mine.filter(status=RecordStatus.SIGNED_OFF).count(),
            "failed": mine.filter(
                status=RecordStatus.SIGNED_OFF, grade_key="not_completed"
            ).count(),
        }
    return render(
        request,
        "assessment/round_list.html",
        {
            "page": page,
            "filters": filters,
            "counts": counts,
            "can_create": allows(request.user, "assessment.run"),
        },
    )


@rule_required("assessment.run")
def round_new(request: HttpRequest) -> HttpResponse:
    sheets = services.active_sheets()
    form = RoundForm(request.POST or None, sheets=sheets)
    if request.method == "POST" and form.is_valid():
        try:
            rnd = services.create_round(
                user=request.user,
                year=form.cleaned_data["year"],
                sheet=form.cleaned_data["sheet"],
                title=form.cleaned_data["title"],
                note=form.cleaned_data["note"],
                department=request.user.department if request.user.department_id else None,
            )
        except services.NotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        except services.Rejected as exc:
            for field, reason in exc.problems.items():
                form.add_error(field if field in form.fields else None, reason)
        else:
            messages.success(request, _("已组织考核：%(t)s") % {"t": rnd.title})
            return redirect("assessment:round", rnd.pk)
    return render(request, "assessment/round_form.html", {"form": form})


def _records_export(filename: str, qs: QuerySet[AssessmentRecord]) -> HttpResponse:
    headers = [
        _("年度"),
        _("考核"),
        _("被考核地区或单位"),
        _("代码"),
        _("状态"),
        _("目标值（%或吨标准煤）"),
        _("实际值（%或吨标准煤）"),
        _("目标部分得分"),
        _("措施部分得分"),
        _("总分"),
        _("考核等级"),
        _("否决"),
        _("计分表版本"),
        _("演示数据"),
    ]

    def first_item(r: AssessmentRecord, field: str) -> float | None:
        for item in r.target_figures.values():
            value = float(item[field])
            return value * 100 if item["unit"] == "frac" else value
        return None

    rows = (
        [
            r.round.year,
            r.round.title,
            r.subject_name,
            r.division.code if r.division_id else r.entity.uscc,
            r.get_status_display(),
            first_item(r, "target"),
            first_item(r, "actual"),
            _num(r.target_score),
            _num(r.measures_score),
            _num(r.total_score),
            r.grade_label,
            _("是") if r.vetoed else "",
            r.round.sheet_version,
            _("是") if r.is_synthetic else "",
        ]
        for r in qs.select_related("round", "division", "entity").order_by(
            "-round__year", "round_id", "division__code", "entity__name"
        )
    )
    return xlsx_response(filename, "assessment", headers, rows)


@rule_required("assessment.view")
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rnd = get_object_or_404(
        access.visible_rounds(request.user).select_related("assessor", "sheet"), pk=pk
    )
    records = (
        access.visible_records(request.user)
        .filter(round=rnd)
        .order_by("division__code", "entity__name")
    )
    if request.GET.get("export") == "xlsx":
        return _records_export(f"assessment-{rnd.year}-{rnd.pk}.xlsx", records)
    status = request.GET.get("status", "")
    if status in RecordStatus.values:
        records = records.filter(status=status)
    can_assess = access.assessor_rounds(request.user).filter(pk=rnd.pk).exists()
    grades: dict[str, int] = {}
    for r in records:
        if r.grade_name and r.status == RecordStatus.SIGNED_OFF:
            grades[r.grade_label] = grades.get(r.grade_label, 0) + 1
    return render(
        request,
        "assessment/round_detail.html",
        {
            "round": rnd,
            "records": records,
            "can_assess": can_assess,
            "date_form": DateForm(initial={"issued_on": timezone.localdate()}),
            "statuses": RecordStatus.choices,
            "filters": {"status": status},
            "scored": records.filter(status=RecordStatus.SCORED).count(),
            "grades": grades,
            "sheet_core": rnd.core_sheet(),
        },
    )


@require_POST
@rule_required("assessment.run")
def round_sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    rnd = get_object_or_404(access.assessor_rounds(request.user), pk=pk)
    form = DateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写结果公告日"))
        return redirect("assessment:round", pk)
    try:
        n = services.sign_off_round(
            round=rnd, user=request.user, issued_on=form.cleaned_data["issued_on"]
        )
    except (services.WorkflowError, services.Rejected) as exc:
        _problems(request, exc)
    else:
        messages.success(request, _("已审定 %(n)s 条考核记录") % {"n": n})
    return redirect("assessment:round", pk)


@require_POST
@rule_required("assessment.run")
def round_compute(request: HttpRequest, pk: int) -> HttpResponse:
    rnd = get_object_or_404(access.assessor_rounds(request.user), pk=pk)
    ok = failed = 0
    for rec in rnd.records.exclude(status=RecordStatus.SIGNED_OFF):
        try:
            if services.refresh_target_part(record=rec, user=request.user):
                ok += 1
            else:
                failed += 1
        except services.WorkflowError:
            failed += 1
    messages.info(
        request,
        _("目标部分已重新计算：%(ok)s 条成功，%(failed)s 条缺少数据")
        % {"ok": ok, "failed": failed},
    )
    return redirect("assessment:round", pk)


# ---------------------------------------------------------------------------------------------
# records


def _record(request: HttpRequest, pk: int) -> AssessmentRecord:
    return get_object_or_404(
        access.visible_records(request.user).select_related(
            "round", "round__sheet", "division", "entity"
        ),
        pk=pk,
    )


@rule_required("assessment.view")
def record_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rec = _record(request, pk)
    user = request.user
    measures = list(rec.measures.select_related("reviewed_by"))
    evidence: dict[str, list[Evidence]] = {}
    for ev in rec.evidence.all():
        evidence.setdefault(ev.item_key, []).append(ev)
    rows = [(m, evidence.get(m.key, [])) for m in measures]
    can_assess = access.can_assess(user, rec)
    can_self = access.can_self_assess(user, rec)
    return render(
        request,
        "assessment/record_detail.html",
        {
            "record": rec,
            "round": rec.round,
            "rows": rows,
            "figures": list(rec.target_figures.values()),
            "result": rec.result,
            "events": rec.events.select_related("actor"),
            "consequences": rec.consequences.all(),
            "can_assess": can_assess,
            "can_self": can_self and rec.status == RecordStatus.SELF_ASSESSMENT,
            "can_score": can_assess and rec.status in (RecordStatus.SUBMITTED, RecordStatus.SCORED),
            "can_certify": access.can_certify(user, rec) and not rec.is_frozen,
            "evidence_form": EvidenceForm(),
            "date_form": DateForm(
                initial={"issued_on": rec.round.announced_on or timezone.localdate()}
            ),
            "reason_form": ReasonForm(),
            "certify_form": CertifyForm(
                initial={"saving_tce": rec.certified_saving_tce, "source": rec.certified_source}
            ),
            "interview_form": InterviewForm(),
        },
    )


def _row_values(
    request: HttpRequest, rec: AssessmentRecord, score: str, note: str
) -> dict[str, tuple[str, str]]:
    return {
        m.key: (request.POST.get(f"{score}_{m.key}", ""), request.POST.get(f"{note}_{m.key}", ""))
        for m in rec.measures.all()
        if f"{score}_{m.key}" in request.POST
    }


def _act(
    request: HttpRequest, rec: AssessmentRecord, fn: Any, ok: str, **kwargs: Any
) -> HttpResponse:
    try:
        fn(record=rec, user=request.user, **kwargs)
    except services.NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except (services.Rejected, services.WorkflowError) as exc:
        _problems(request, exc)
    else:
        messages.success(request, ok)
    return redirect("assessment:record", rec.pk)


@require_POST
@rule_required("assessment.view")
def record_self(request: HttpRequest, pk: int) -> HttpResponse:
    rec = _record(request, pk)
    return _act(
        request,
        rec,
        services.save_self_assessment,
        _("自评已保存"),
        scores=_row_values(request, rec, "self", "note"),
    )


@require_POST
@rule_required("assessment.view")
def record_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    rec = _record(request, pk)
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择要上传的文件"))
        return redirect("assessment:record", pk)
    return _act(
        request,
        rec,
        services.add_evidence,
        _("佐证材料已上传"),
        item_key=form.cleaned_data["item_key"],
        upload=form.cleaned_data["file"],
        description=form.cleaned_data["description"],
    )


@require_POST
@rule_required("assessment.view")
def record_submit(request: HttpRequest, pk: int) -> HttpResponse:
    rec = _record(request, pk)
    return _act(request, rec, services.submit_self_assessment, _("自评已提交，等待评审"))


@require_POST
@rule_required("assessment.view")
def record_score(request: HttpRequest, pk: int) -> HttpResponse:
    rec = _record(request, pk)
    return _act(
        request,
        rec,
        services.score_measures,
        _("评分已保存"),
        scores=_row_values(request, rec, "score", "comment"),
    )


@require_POST
@rule_required("assessment.view")
def record_compute(request: HttpRequest, pk: int) -> HttpResponse:
    rec = _record(request, pk)
    return _act(request, rec, services.refresh_target_part, _("目标部分已按核算数据重新计算"))


@require_POST
@rule_required("assessment.view")
def record_certify(request: HttpRequest, pk: int) -> HttpResponse:
    rec = _record(request, pk)
    form = CertifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写核定节能量和依据"))
        return redirect("assessment:record", pk)
    return _act(
        request,
        rec,
        services.certify_saving,
        _("核定节能量已录入"),
        saving_tce=form.cleaned_data["saving_tce"],
        source=form.cleaned_data["source"],
    )


@require_POST
@rule_required("assessment.view")
def record_sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    rec = _record(request, pk)
    form = DateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写结果公告日"))
        return redirect("assessment:record", pk)
    return _act(
        request,
        rec,
        services.sign_off,
        _("考核结果已审定"),
        issued_on=form.cleaned_data["issued_on"],
    )


@require_POST
@rule_required("assessment.view")
def record_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    rec = _record(request, pk)
    return _act(
        request,
        rec,
        services.reopen,
        _("考核结果已重新打开"),
        reason=request.POST.get("reason", ""),
    )


@require_POST
@rule_required("assessment.view")
def record_interview(request: HttpRequest, pk: int) -> HttpResponse:
    rec = _record(request, pk)
    form = InterviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("日期格式不正确"))
        return redirect("assessment:record", pk)
    try:
        services.record_interview(
            user=request.user,
            year=rec.round.year,
            division=rec.division,
            entity=rec.entity,
            held_on=form.cleaned_data["held_on"],
            due_on=form.cleaned_data["due_on"],
            note=form.cleaned_data["note"],
            record=rec,
        )
    except services.NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except services.Rejected as exc:
        _problems(request, exc)
    else:
        messages.success(request, _("约谈已记录"))
    return redirect("assessment:record", pk)


@rule_required("assessment.view")
def evidence_file(request: HttpRequest, pk: int) -> HttpResponse:
    ev = get_object_or_404(
        Evidence.objects.filter(record__in=access.visible_records(request.user)), pk=pk
    )
    return download(ev.file, ev.name)


# ---------------------------------------------------------------------------------------------
# consequences and credit


@rule_required("assessment.consequences")
def consequence_list(request: HttpRequest) -> HttpResponse:
    qs = access.visible_consequences(request.user)
    today = timezone.localdate()
    summary = services.open_by_region(qs, today)
    f = {k: request.GET.get(k, "").strip() for k in ("status", "kind", "year", "division", "q")}
    if f["status"] == "open":
        qs = qs.filter(status__in=[ConsequenceStatus.OPEN, ConsequenceStatus.RESPONDED])
    elif f["status"] in ConsequenceStatus.values:
        qs = qs.filter(status=f["status"])
    elif f["status"] != "all":
        qs = qs.exclude(status=ConsequenceStatus.NOTED)  # records, not measures to follow up
    if f["kind"]:
        qs = qs.filter(kind=f["kind"])
    if f["year"].isdigit():
        qs = qs.filter(year=int(f["year"]))
    if f["division"].isdigit():
        code = f["division"]
        qs = qs.filter(division__path__contains=f"{code}/") | qs.filter(
            entity__division__path__contains=f"{code}/"
        )
    if f["q"]:
        qs = qs.filter(title_zh__icontains=f["q"]) | qs.filter(entity__name__icontains=f["q"])
    qs = qs.order_by(
        "-year",
        F("division__code").asc(nulls_last=True),
        "entity__division__code",
        "entity__name",
        "issued_on",
        "id",
    )
    if request.GET.get("export") == "xlsx":
        headers = [
            _("年度"),
            _("地区或单位"),
            _("措施"),
            _("触发条件"),
            _("下达日期"),
            _("期限"),
            _("状态"),
            _("办结日期"),
            _("演示数据"),
        ]
        rows = (
            [
                c.year,
                c.subject_name,
                c.title_zh,
                c.trigger,
                c.issued_on,
                c.due_on,
                c.get_status_display(),
                c.closed_on,
                _("是") if c.is_synthetic else "",
            ]
            for c in qs
        )
        return xlsx_response("consequences.xlsx", "consequences", headers, rows, user=request.user)
    kinds = list(
        access.visible_consequences(request.user)
        .order_by("kind", "title_zh")
        .values_list("kind", "title_zh")
        .distinct()
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assessment/consequence_list.html",
        {
            "page": page,
            "filters": f,
            "summary": summary,
            "today": today,
            "statuses": ConsequenceStatus.choices,
            "kinds": kinds,
        },
    )


def _consequence(request: HttpRequest, pk: int) -> Consequence:
    return get_object_or_404(access.visible_consequences(request.user), pk=pk)


@rule_required("assessment.consequences")
def consequence_detail(request: HttpRequest, pk: int) -> HttpResponse:
    c = _consequence(request, pk)
    return render(
        request,
        "assessment/consequence_detail.html",
        {
            "c": c,
            "today": timezone.localdate(),
            # the record is linked only where the user may open it (a city sees the consequence of
            # a unit in its region, not the province's record of that unit)
            "record_visible": c.record_id is not None
            and access.visible_records(request.user).filter(pk=c.record_id).exists(),
            "can_respond": access.can_respond(request.user, c) and c.is_open,
            "can_close": access.can_close(request.user, c) and c.is_open,
            "respond_form": RespondForm(),
            "close_form": CloseForm(initial={"closed_on": timezone.localdate()}),
        },
    )


@require_POST
@rule_required("assessment.consequences")
def consequence_respond(request: HttpRequest, pk: int) -> HttpResponse:
    c = _consequence(request, pk)
    form = RespondForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请填写整改情况"))
        return redirect("assessment:consequence", pk)
    try:
        services.respond(
            consequence=c,
            user=request.user,
            text=form.cleaned_data["text"],
            upload=form.cleaned_data["file"],
        )
    except services.NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except (services.Rejected, services.WorkflowError) as exc:
        _problems(request, exc)
    else:
        messages.success(request, _("整改情况已报送"))
    return redirect("assessment:consequence", pk)


@require_POST
@rule_required("assessment.consequences")
def consequence_close(request: HttpRequest, pk: int) -> HttpResponse:
    c = _consequence(request, pk)
    form = CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写办结说明"))
        return redirect("assessment:consequence", pk)
    try:
        services.close(
            consequence=c,
            user=request.user,
            note=form.cleaned_data["note"],
            closed_on=form.cleaned_data["closed_on"],
        )
    except services.NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except (services.Rejected, services.WorkflowError) as exc:
        _problems(request, exc)
    else:
        messages.success(request, _("已办结"))
    return redirect("assessment:consequence", pk)


@rule_required("assessment.consequences")
def consequence_file(request: HttpRequest, pk: int) -> HttpResponse:
    c = _consequence(request, pk)
    if not c.response_file:
        raise Http404
    return download(c.response_file, c.response_name or "response")


@rule_required("assessment.view")
def credit_list(request: HttpRequest) -> HttpResponse:
    qs = access.visible_credit(request.user)
    f = {k: request.GET.get(k, "").strip() for k in ("year", "q")}
    if f["year"].isdigit():
        qs = qs.filter(year=int(f["year"]))
    if f["q"]:
        qs = qs.filter(entity__name__icontains=f["q"]) | qs.filter(entity__uscc=f["q"].upper())
    qs = qs.order_by("entity__name", "-recorded_on", "-id")
    if request.GET.get("export") == "xlsx":
        headers = [
            _("单位名称"),
            _("统一社会信用代码"),
            _("年度"),
            _("事项"),
            _("内容"),
            _("考核等级"),
            _("记录日期"),
        ]
        rows = (
            [r.entity.name, r.entity.uscc, r.year, r.title, r.detail, r.grade_name, r.recorded_on]
            for r in qs
        )
        return xlsx_response("credit.xlsx", "credit", headers, rows, user=request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "assessment/credit_list.html", {"page": page, "filters": f})


@rule_required("assessment.sheets")
def sheet_list(request: HttpRequest) -> HttpResponse:
    services.active_sheets()
    sheets = []
    for s in ScoringSheet.objects.all():
        try:
            core = s.to_core()
        except Exception as exc:  # an inconsistent row (should not pass the admin)
            core = None
            messages.error(request, f"{s.name}: {exc}")
        sheets.append((s, core))
    return render(request, "assessment/sheet_list.html", {"sheets": sheets})
