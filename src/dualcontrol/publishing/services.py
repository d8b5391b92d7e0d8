"""Use cases of publishing: the only code that writes publications (province staff only).

- :func:`publish_bulletin` — freeze the year's bulletin (figures computed now from the accounted
  statistics) and publish it;
- :func:`publish_results` — the grade list of a signed-off assessment round, and with it the
  lists of regions under approval suspension (区域限批) and of units ordered to carry out an
  energy audit (强制能源审计);
- :func:`withdraw` — take a publication down (reason required; kept, marked withdrawn);
- the quarterly exceedance list (超标名单): :func:`build_exceedance_draft` (the draft, computed now
  from the monitoring data), :func:`strike_alarm` / :func:`restore_alarm` (the reviewer takes an
  alarm out, e.g. 误报, with a reason that is published — or puts it back),
  :func:`publish_exceedance_list` (the reviewed draft becomes the published version) and
  :func:`discard_draft`.

Re-publishing supersedes the published version of the same document (kept, version + 1).  A
published document never changes (:meth:`Publication.save` refuses): a correction is a new version.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from dualcontrol.access.rules import allows
from dualcontrol.assessment.models import (
    OPEN_STATUSES,
    AssessmentRound,
    Consequence,
    RecordStatus,
    SubjectKind,
)
from dualcontrol.audit.services import record as audit
from dualcontrol.core import exceedances as core_exceedances
from dualcontrol.core.bulletin import region_label
from dualcontrol.publishing import bulletin, exceedances
from dualcontrol.publishing.models import Publication, PublicationKind, PublicationStatus
from dualcontrol.regions.models import Division


class NotAllowed(Exception):
    pass


class PublishError(Exception):
    pass


def can_publish(user: Any) -> bool:
    """Province staff of a department that publishes (``duties.yaml``: publish_results)."""
    return allows(user, "publishing.manage")


def _user(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def current(
    kind: str,
    year: int,
    round: AssessmentRound | None = None,
    division: Division | None = None,
) -> Publication | None:
    qs = Publication.objects.filter(kind=kind, year=year, status=PublicationStatus.PUBLISHED)
    if round is not None:
        qs = qs.filter(round=round)
    if division is not None:
        qs = qs.filter(division=division)
    return qs.order_by("-version").first()


def _publish(
    *,
    user: Any,
    kind: str,
    year: int,
    title: str,
    content: dict[str, Any],
    published_on: dt.date,
    round: AssessmentRound | None,
    is_synthetic: bool,
    division: Division | None = None,
) -> Publication:
    division = round.assessor if round is not None else division
    previous = current(kind, year, round, division=division)
    if previous is not None and round is None and previous.round_id is not None:
        previous = None
    version = 1
    if previous is not None:
        version = previous.version + 1
        previous.status = PublicationStatus.SUPERSEDED
        previous.save(update_fields=["status"])
    content = {**content, "published_on": published_on.isoformat(), "version": version}
    pub = Publication.objects.create(
        kind=kind,
        year=year,
        title=title,
        content=content,
        round=round,
        division=division,
        version=version,
        published_on=published_on,
        published_by=_user(user),
        is_synthetic=is_synthetic,
    )
    audit(
        actor=user,
        action=f"publication.publish.{kind}",
        obj=pub,
        after={
            "year": year,
            "version": version,
            "rows": len(content.get("rows", [])),
            "superseded": previous.pk if previous else None,
        },
    )
    return pub


def publish_bulletin(
    *,
    user: Any,
    year: int,
    published_on: dt.date,
    issuers: str = "",
    province: Division | None = None,
    system: bool = False,
) -> Publication:
    """公报: compute the year's figures now, freeze and publish them."""
    if not system and not can_publish(user):
        raise NotAllowed(_("只有省级人员可以发布公报"))
    try:
        if province is None and not system:
            from dualcontrol.access.scope import province_of

            province = province_of(user)  # the publisher's own province (issue 22)
        province = province or bulletin.default_province()
        content = bulletin.compute(year, province=province, issuers=issuers)
    except bulletin.BulletinError as exc:
        raise PublishError(str(exc)) from exc
    with transaction.atomic():
        return _publish(
            user=user,
            kind=PublicationKind.BULLETIN,
            year=year,
            title=content["title"],
            content=content,
            published_on=published_on,
            round=None,
            is_synthetic=bool(content["synthetic"]),
            division=province,
        )


def _grade_order(rnd: AssessmentRound) -> dict[str, int]:
    grades = rnd.sheet_definition.get("grades", [])
    return {g["key"]: i for i, g in enumerate(grades)}


def _grades_content(rnd: AssessmentRound, records: list[Any]) -> dict[str, Any]:
    order = _grade_order(rnd)
    records = sorted(
        records,
        key=lambda r: (
            order.get(r.grade_key, 99),
            r.division.code if r.division_id else r.entity.name,
        ),
    )
    if rnd.subject_kind == SubjectKind.REGION:
        header = ["地 区", "考核等级"]
        rows = [
            {"cells": [region_label(r.division.name), r.grade_name], "code": r.division.code}
            for r in records
        ]
    else:
        header = ["单位名称", "统一社会信用代码", "所在地区", "考核等级"]
        rows = [
            {
                "cells": [r.entity.name, r.entity.uscc, r.entity.division.name, r.grade_name],
                "code": r.entity.uscc,
            }
            for r in records
        ]
    grade_text = "；".join(
        f"{g['name_zh']}（{_bounds(g)}）" for g in rnd.sheet_definition.get("grades", [])
    )
    notes = [
        f"考核依据：{rnd.sheet.title_zh}（计分表 {rnd.sheet_name}，版本 {rnd.sheet_version}）。",
        *_basis_notes(rnd, grade_text),
    ]
    if rnd.is_synthetic:
        notes.append("本名单为平台演示，考核数据为合成数据，非官方发布，不代表真实情况。")
    return {
        "year": rnd.year,
        "title": f"{rnd.title}结果",
        "header": header,
        "rows": rows,
        "footnotes": [f"{i}. {n}" for i, n in enumerate(notes, 1)],
        "synthetic": rnd.is_synthetic,
        "round_id": rnd.pk,
        "sheet": {"name": rnd.sheet_name, "version": rnd.sheet_version},
    }


def _basis_notes(rnd: AssessmentRound, grade_text: str) -> list[str]:
    """What the grades and the target part rest on: the energy wording, or for a carbon sheet
    (co2-*) its veto items and the CO2 statistics."""
    from dualcontrol.assessment.sources import is_carbon_sheet, is_pollutant_sheet

    sheet = rnd.core_sheet()
    if is_pollutant_sheet(sheet):
        vetoes = "、".join(t.title_zh for t in sheet.target_items if t.veto)
        veto_grade = sheet.grade(sheet.veto_grade).name_zh
        return [
            f"考核等级：{grade_text}。未完成否决性指标（{vetoes}）的，考核结果为{veto_grade}。",
            "目标完成情况按地区统计数据所载主要污染物排放量和重点工程核定减排量、按各地区污染物总量减排"
            "目标及其序时（时间）进度计算；计分表为平台预设（未找到官方计分表）。",
        ]
    if not is_carbon_sheet(sheet):
        return [
            f"考核等级：{grade_text}。未完成节能目标（否决性指标）的，均为未完成等级。",
            "目标完成情况按统计部门核算的能源消费量和地区生产总值（可比价）计算；节能措施落实情况由"
            "考核组根据被考核方的自评和佐证材料评分。",
        ]
    vetoes = "、".join(t.title_zh for t in sheet.target_items if t.veto)
    veto_grade = sheet.grade(sheet.veto_grade).name_zh
    return [
        f"考核等级：{grade_text}。未完成否决性指标（{vetoes}）的，考核结果为{veto_grade}。",
        "目标完成情况按地区统计数据所载二氧化碳排放量和地区生产总值（可比价）计算，单位地区生产总值"
        "二氧化碳排放保留四位小数后计算降低率；任务措施、基础工作与能力建设由考核组根据被考核方的"
        "自评和佐证材料评分。",
    ]


def _bounds(g: dict[str, Any]) -> str:
    def num(v: Any) -> str:
        return str(v).rstrip("0").rstrip(".") if "." in str(v) else str(v)

    low, high = g.get("lower"), g.get("upper")
    if low is not None and high is None:
        return f"{num(low)}分{'及' if g.get('lower_inclusive') else ''}以上"
    if low is None and high is not None:
        return f"{num(high)}分以下{'' if g.get('upper_inclusive') else '，不含' + num(high) + '分'}"
    return (
        f"{num(low)}–{num(high)}分，"
        f"{'含' if g.get('lower_inclusive') else '不含'}{num(low)}分，"
        f"{'含' if g.get('upper_inclusive') else '不含'}{num(high)}分"
    )


def _consequence_rows(rnd: AssessmentRound, **flags: bool) -> list[Consequence]:
    return list(
        Consequence.objects.filter(record__round=rnd, status__in=OPEN_STATUSES, **flags)
        .select_related("division", "entity", "entity__division")
        .order_by("division__code", "entity__name", "id")
    )


def _restricted_content(rnd: AssessmentRound, items: list[Consequence]) -> dict[str, Any]:
    header = [
        "地 区" if rnd.subject_kind == SubjectKind.REGION else "单位名称",
        "措施",
        "下达日期",
        "状态",
    ]
    rows = [
        {
            "cells": [
                region_label(c.division.name) if c.division_id else c.entity.name,
                c.title_zh,
                c.issued_on.isoformat(),
                c.get_status_display(),
            ],
            "code": c.division.code if c.division_id else c.entity.uscc,
        }
        for c in items
    ]
    notes = [
        "依据：对考核等级为未完成的地区（单位），暂停其新建高耗能项目的核准和审批，整改到位后解除。"
        if not any(c.kind == "pollutant_project_approval_suspended" for c in items)
        else "依据：对未通过主要污染物总量减排考核的地区，暂停其新增排放重点污染物建设项目的环评审批"
        "（区域限批），整改到位后解除。",
    ]
    if rnd.is_synthetic:
        notes.append("本名单为平台演示，非官方发布。")
    return {
        "year": rnd.year,
        "title": f"{rnd.year}年度考核未完成等级{'地区' if rnd.subject_kind == SubjectKind.REGION else '单位'}限批名单",
        "header": header,
        "rows": rows,
        "footnotes": [f"{i}. {n}" for i, n in enumerate(notes, 1)],
        "synthetic": rnd.is_synthetic,
        "round_id": rnd.pk,
    }


def _audits_content(rnd: AssessmentRound, items: list[Consequence]) -> dict[str, Any]:
    rows = [
        {
            "cells": [
                c.entity.name,
                c.entity.uscc,
                c.entity.division.name,
                c.due_on.isoformat() if c.due_on else "",
                c.get_status_display(),
            ],
            "code": c.entity.uscc,
        }
        for c in items
        if c.entity_id
    ]
    notes = ["依据：对未完成年度节能目标任务的企业，实行强制能源审计，责令限期整改。"]
    if rnd.is_synthetic:
        notes.append("本名单为平台演示，单位为合成单位，非官方发布。")
    return {
        "year": rnd.year,
        "title": f"{rnd.year}年度强制能源审计单位名单",
        "header": ["单位名称", "统一社会信用代码", "所在地区", "审计期限", "状态"],
        "rows": rows,
        "footnotes": [f"{i}. {n}" for i, n in enumerate(notes, 1)],
        "synthetic": rnd.is_synthetic,
        "round_id": rnd.pk,
    }


def publish_results(
    *, user: Any, round: AssessmentRound, published_on: dt.date, system: bool = False
) -> list[Publication]:
    """考核结果公告: the grade list, plus the 限批 and 强制能源审计 lists when they have entries."""
    if not system and not can_publish(user):
        raise NotAllowed(_("只有省级人员可以发布考核结果"))
    records = list(
        round.records.filter(status=RecordStatus.SIGNED_OFF).select_related(
            "division", "entity", "entity__division"
        )
    )
    if not records or round.records.exclude(status=RecordStatus.SIGNED_OFF).exists():
        raise PublishError(_("考核结果尚未全部审定，不能发布"))
    out = []
    with transaction.atomic():
        documents = [(PublicationKind.GRADES, _grades_content(round, records))]
        restricted = _consequence_rows(round, restricts_approvals=True)
        if restricted:
            documents.append((PublicationKind.RESTRICTED, _restricted_content(round, restricted)))
        audits = _consequence_rows(round, requires_audit=True)
        if audits:
            documents.append((PublicationKind.AUDITS, _audits_content(round, audits)))
        for kind, content in documents:
            out.append(
                _publish(
                    user=user,
                    kind=kind,
                    year=round.year,
                    title=content["title"],
                    content=content,
                    published_on=published_on,
                    round=round,
                    is_synthetic=round.is_synthetic,
                )
            )
        Consequence.objects.filter(
            record__round=round, kind="results_announced", status="noted"
        ).update(closed_on=published_on, closing_note=_("已公告"))
    return out


def withdraw(*, publication: Publication, user: Any, note: str) -> Publication:
    if not can_publish(user):
        raise NotAllowed(_("只有省级人员可以撤回发布"))
    note = (note or "").strip()
    if not note:
        raise PublishError(_("请说明撤回原因"))
    if publication.status != PublicationStatus.PUBLISHED:
        raise PublishError(_("该版本不是现行发布版本"))
    with transaction.atomic():
        publication.status = PublicationStatus.WITHDRAWN
        publication.withdrawn_note = note[:2000]
        publication.save(update_fields=["status", "withdrawn_note"])
        audit(actor=user, action="publication.withdraw", obj=publication, note=note[:255])
    return publication


# ---------------------------------------------------------------------------------------------
# The quarterly exceedance list (超标名单): draft → review → publish


def _of(qs: Any, division: Division | None) -> Any:
    """A province's documents (None: any — the installation holds one province)."""
    return qs if division is None else qs.filter(division=division)


def current_quarterly(
    kind: str, year: int, quarter: int, division: Division | None = None
) -> Publication | None:
    """The published version of a quarterly document (None: not published)."""
    return (
        _of(
            Publication.objects.filter(
                kind=kind, year=year, quarter=quarter, status=PublicationStatus.PUBLISHED
            ),
            division,
        )
        .order_by("-version")
        .first()
    )


def exceedance_draft(
    year: int, quarter: int, division: Division | None = None
) -> Publication | None:
    return _of(
        Publication.objects.filter(
            kind=PublicationKind.EXCEEDANCES,
            year=year,
            quarter=quarter,
            status=PublicationStatus.DRAFT,
        ),
        division,
    ).first()


def _next_version(kind: str, year: int, quarter: int, division: Division | None = None) -> int:
    top = (
        _of(Publication.objects.filter(kind=kind, year=year, quarter=quarter), division)
        .exclude(status=PublicationStatus.DRAFT)
        .aggregate(v=Max("version"))["v"]
    )
    return (top or 0) + 1


def _require_publisher(user: Any, system: bool, message: str) -> None:
    if not system and not can_publish(user):
        raise NotAllowed(message)


def _list_content(
    year: int,
    quarter: int,
    struck: dict[int, str],
    issuers: str,
    now: dt.datetime | None,
    province: Division | None = None,
) -> dict[str, Any]:
    try:
        return exceedances.compute(
            year, quarter, struck=struck, issuers=issuers, now=now, province=province
        )
    except exceedances.ExceedanceListError as exc:
        raise PublishError("；".join(exc.problems)) from exc


def _struck_of(draft: Publication) -> dict[int, str]:
    return {int(k): str(v) for k, v in (draft.content.get("struck") or {}).items()}


def _summary(content: dict[str, Any]) -> dict[str, Any]:
    return {
        "rows": len(content.get("rows", [])),
        "alarms": sorted(a["id"] for r in content.get("rows", []) for a in r.get("alarms", [])),
        "struck": content.get("struck", {}),
        "rules": content.get("rules", {}),
    }


def build_exceedance_draft(
    *,
    user: Any,
    year: int,
    quarter: int,
    issuers: str | None = None,
    now: dt.datetime | None = None,
    system: bool = False,
    province: Division | None = None,
) -> Publication:
    """超标名单草稿: compute the quarter's list now from the monitoring data of the province (the
    publisher's own; issue 22) and save it as the draft (replacing the previous draft's figures;
    the reviewer's strikes are kept)."""
    _require_publisher(user, system, _("只有省级人员可以编制超标名单"))
    if province is None:
        from dualcontrol.access.scope import province_of

        province = (None if system else province_of(user)) or bulletin.default_province()
    try:
        core_exceedances.check_quarter(year, quarter)
    except core_exceedances.ExceedanceInputError as exc:
        raise PublishError("；".join(exc.problems)) from exc
    kind = PublicationKind.EXCEEDANCES
    try:
        with transaction.atomic():
            draft = (
                Publication.objects.select_for_update()
                .filter(
                    kind=kind,
                    year=year,
                    quarter=quarter,
                    division=province,
                    status=PublicationStatus.DRAFT,
                )
                .first()
            )
            struck = _struck_of(draft) if draft else {}
            if issuers is None:
                issuers = str(draft.content.get("issuers", "")) if draft else ""
            content = _list_content(year, quarter, struck, issuers.strip(), now, province)
            before = _summary(draft.content) if draft else None
            version = _next_version(kind, year, quarter, province)
            if draft is None:
                draft = Publication(
                    kind=kind,
                    year=year,
                    quarter=quarter,
                    division=province,
                    status=PublicationStatus.DRAFT,
                    published_on=timezone.localdate(),
                )
            draft.title = content["title"]
            draft.content = {**content, "version": version}
            draft.version = version
            draft.is_synthetic = bool(content["synthetic"])
            draft.published_by = _user(user)
            draft.save()
            audit(
                actor=user,
                action="publication.draft.exceedances",
                obj=draft,
                before=before,
                after=_summary(draft.content),
            )
    except IntegrityError as exc:
        raise PublishError(_("该季度的草稿正由他人同时生成，请刷新后重试")) from exc
    return draft


def _draft_for_review(draft: Publication) -> Publication:
    draft = Publication.objects.select_for_update().get(pk=draft.pk)
    if draft.status != PublicationStatus.DRAFT:
        raise PublishError(_("该名单已发布，不能再修改；如需更正请生成新版本草稿"))
    return draft


def _restrike(
    *, user: Any, draft: Publication, struck: dict[int, str], action: str, note: str
) -> Publication:
    before = _summary(draft.content)
    content = _list_content(
        draft.year,
        int(draft.quarter or 0),
        struck,
        str(draft.content.get("issuers", "")),
        None,
        draft.division,
    )
    draft.content = {**content, "version": draft.version}
    draft.title = content["title"]
    draft.is_synthetic = bool(content["synthetic"])
    draft.save()
    audit(
        actor=user,
        action=action,
        obj=draft,
        before=before,
        after=_summary(draft.content),
        note=note,
    )
    return draft


def strike_alarm(
    *, user: Any, draft: Publication, alarm_id: int, reason: str, system: bool = False
) -> Publication:
    """The reviewer takes an alarm out of the draft (e.g. 经核实为误报); the reason is published."""
    _require_publisher(user, system, _("只有省级人员可以审核超标名单"))
    if not exceedances.list_rules().reviewer_strike:
        raise PublishError(_("规则不允许审核剔除报警"))
    reason = (reason or "").strip()
    problems = []
    if not reason:
        problems.append(_("请填写剔除理由（将随名单公布）"))
    if len(reason) > 200:
        problems.append(_("剔除理由最长 200 字"))
    with transaction.atomic():
        draft = _draft_for_review(draft)
        known = {a["id"] for r in draft.content.get("rows", []) for a in r.get("alarms", [])}
        known |= {n["alarm"] for n in draft.content.get("not_counted", [])}
        if alarm_id not in known:
            problems.append(_("报警 %(id)s 不属于本季度的超标报警") % {"id": alarm_id})
        if problems:
            raise PublishError("；".join(problems))
        struck = {**_struck_of(draft), alarm_id: reason}
        return _restrike(
            user=user,
            draft=draft,
            struck=struck,
            action="publication.exceedances.strike",
            note=f"alarm {alarm_id}: {reason}"[:255],
        )


def restore_alarm(*, user: Any, draft: Publication, alarm_id: int) -> Publication:
    """Put a struck alarm back into the draft."""
    _require_publisher(user, False, _("只有省级人员可以审核超标名单"))
    with transaction.atomic():
        draft = _draft_for_review(draft)
        struck = _struck_of(draft)
        if alarm_id not in struck:
            raise PublishError(_("报警 %(id)s 未被剔除") % {"id": alarm_id})
        del struck[alarm_id]
        return _restrike(
            user=user,
            draft=draft,
            struck=struck,
            action="publication.exceedances.restore",
            note=f"alarm {alarm_id}",
        )


def publish_exceedance_list(
    *,
    user: Any,
    draft: Publication,
    published_on: dt.date,
    now: dt.datetime | None = None,
    system: bool = False,
) -> Publication:
    """The reviewed draft, exactly as reviewed, becomes the published list (version n + 1; the
    previous version is kept, superseded).  Refused while the quarter is running."""
    _require_publisher(user, system, _("只有省级人员可以发布超标名单"))
    rules = exceedances.list_rules()
    now = now or timezone.now()
    with transaction.atomic():
        draft = _draft_for_review(draft)
        year, quarter = draft.year, int(draft.quarter or 0)
        _first, last = core_exceedances.quarter_dates(year, quarter)
        problems = []
        if rules.publish_after_quarter_end and timezone.localdate(now) <= last:
            problems.append(
                _("%(y)s年第%(q)s季度尚未结束（%(d)s），季度结束后才能发布")
                % {"y": year, "q": quarter, "d": last.isoformat()}
            )
        if published_on <= last:
            problems.append(_("发布日期须在季度结束之后"))
        if problems:
            raise PublishError("；".join(problems))
        kind = PublicationKind.EXCEEDANCES
        previous = (
            Publication.objects.select_for_update()
            .filter(
                kind=kind,
                year=year,
                quarter=quarter,
                division=draft.division,
                status=PublicationStatus.PUBLISHED,
            )
            .first()
        )
        if previous is not None:
            previous.status = PublicationStatus.SUPERSEDED
            previous.save(update_fields=["status"])
        version = _next_version(kind, year, quarter, draft.division)
        draft.status = PublicationStatus.PUBLISHED
        draft.version = version
        draft.content = {
            **draft.content,
            "published_on": published_on.isoformat(),
            "version": version,
        }
        draft.published_on = published_on
        draft.published_at = now
        draft.published_by = _user(user)
        draft.save()
        audit(
            actor=user,
            action="publication.publish.exceedances",
            obj=draft,
            after={
                "year": year,
                "quarter": quarter,
                "version": version,
                "rows": len(draft.content.get("rows", [])),
                "superseded": previous.pk if previous else None,
                "computed_at": draft.content.get("computed_at"),
            },
        )
    return draft


def discard_draft(*, user: Any, draft: Publication) -> None:
    """Throw a draft away (audited; nothing was public)."""
    _require_publisher(user, False, _("只有省级人员可以删除草稿"))
    with transaction.atomic():
        draft = _draft_for_review(draft)
        audit(
            actor=user,
            action="publication.draft.discard",
            obj=draft,
            before=_summary(draft.content),
        )
        draft.delete()
