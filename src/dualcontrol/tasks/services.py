"""Use cases of plan-task tracking: the only code that writes plans, tasks and progress reports.

Each function takes keyword-only arguments, validates everything first, writes in one
transaction and records an audit entry in the same transaction:

- :func:`import_plan` — a plan document (.txt / .docx) → :class:`Plan` with its tasks and
  their departments, all or nothing (:func:`preview_plan` shows the same result without saving);
- :func:`set_task` / :func:`set_deadlines` — the plan office sets deadlines and statuses;
- :func:`file_progress` — a responsible department files a periodic report with evidence;
- :func:`merge_department` / :func:`confirm_department` — the office resolves departments that an
  import had to create because no department of the plan's government had the name as written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePath
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from dualcontrol.access import tasks as access
from dualcontrol.access.scope import visible_divisions
from dualcontrol.audit.services import record, snapshot
from dualcontrol.core.plans import Plan as ParsedPlan
from dualcontrol.core.plans import PlanItem, PlanParseError, parse_plan
from dualcontrol.formats.plan_documents import (
    REFUSED,
    PdfWithoutText,
    PlanDocumentError,
    load_plan_vocabulary,
    read_plan_paragraphs,
)
from dualcontrol.formats.upload_tables import TableRefused, check_archive, upload_limits
from dualcontrol.regions.models import Department, Division
from dualcontrol.tasks.models import (
    AssignmentRole,
    DeadlineSource,
    DepartmentAlias,
    ImportedDepartment,
    Plan,
    PlanTask,
    ProgressReport,
    TaskAssignment,
    TaskStatus,
)
from dualcontrol.tasks.rules import TaskRules, load_rules, valid_period
from dualcontrol.uploads import refusal

ACCEPTED_SUFFIXES = (".txt", ".docx", ".md", ".markdown", ".html", ".htm", ".pdf")
NAME_MAX = Department._meta.get_field("name").max_length or 64


class ImportRejected(ValueError):
    """The plan was refused as a whole (nothing was written); ``problems`` lists every reason."""

    def __init__(self, problems: str | Sequence[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("；".join(self.problems))


class ProgressRejected(ValueError):
    """A progress report was refused (nothing was written); ``problems`` maps field → reason."""

    def __init__(self, problems: Mapping[str, str]):
        self.problems = dict(problems)
        super().__init__("；".join(f"{k}: {v}" for k, v in self.problems.items()))


class TaskPermissionDenied(PermissionError):
    """The user may not do this to this plan, task or department."""


class MergeRefused(ValueError):
    """The departments cannot be merged (the message says why); nothing was written."""


class PlanAlreadyImported(ImportRejected):
    """The same file was already imported for this government (the only problem)."""


class TargetsRejected(ImportRejected):
    """Accepted target proposals with problems (nothing was written); ``decisions`` are the
    proposals as the office edited them and ``preview`` the file's, for the confirmation to show
    again."""

    def __init__(self, problems: Sequence[str], decisions: list[dict[str, Any]], preview: Preview):
        self.decisions = decisions
        self.preview = preview
        super().__init__(problems)


# --------------------------------------------------------------------------------------------
# Reading and previewing a document


@dataclass(frozen=True)
class ParsedDocument:
    filename: str
    sha256: str
    paragraphs: list[str]
    plan: ParsedPlan

    @property
    def tasks(self) -> tuple[PlanItem, ...]:
        return self.plan.tasks


def read_document(*, data: bytes, filename: str, rules: TaskRules | None = None) -> ParsedDocument:
    """Parse an uploaded plan file; raises :class:`ImportRejected` with a message for the user."""
    rules = rules or load_rules()
    name = PurePath(filename.replace("\\", "/")).name or "plan.txt"
    suffix = PurePath(name).suffix.lower()
    if suffix in REFUSED:
        raise ImportRejected(
            _("%(name)s：不能读取此格式，请另存为 .docx 或 .txt 后上传。") % {"name": name}
        )
    if suffix not in ACCEPTED_SUFFIXES:
        raise ImportRejected(
            _(
                "%(name)s：只接受 .txt、.md（UTF-8 或 GB18030）、.html、.docx 和有文字层的 .pdf "
                "格式的方案文件。"
            )
            % {"name": name}
        )
    if not data or not data.strip():
        raise ImportRejected(_("%(name)s：文件是空的。") % {"name": name})
    if len(data) > rules.import_max_bytes:
        raise ImportRejected(
            _("%(name)s：文件超过 %(mb)s MB。")
            % {"name": name, "mb": rules.import_max_bytes // (1024 * 1024)}
        )
    if suffix == ".docx" or data[:2] == b"PK":
        # the archive's directory is checked before python-docx decompresses anything
        try:
            check_archive(data, upload_limits("plan_document"), name=name).close()
        except TableRefused as exc:
            raise ImportRejected(
                [
                    _("%(name)s：无法读取方案文件（%(detail)s）。")
                    % {"name": name, "detail": e.reason}
                    for e in exc.errors
                ]
            ) from exc
    with tempfile.TemporaryDirectory(prefix="dualcontrol-plan-") as tmp:
        path = Path(tmp) / f"plan{suffix}"
        path.write_bytes(data)
        try:
            paragraphs = read_plan_paragraphs(path)
            parsed = parse_plan(paragraphs, vocabulary=load_plan_vocabulary())
        except PdfWithoutText as exc:
            raise ImportRejected(
                _(
                    "%(name)s：PDF 没有文字层（扫描图像），无法读取文字。请先做文字识别（OCR），"
                    "或另存为 .docx / .txt 后上传。"
                )
                % {"name": name}
            ) from exc
        except (PlanDocumentError, PlanParseError) as exc:
            detail = str(exc).replace(path.name, name)
            raise ImportRejected(
                _("%(name)s：无法读取方案文件（%(detail)s）。") % {"name": name, "detail": detail}
            ) from exc
    if not parsed.tasks:
        raise ImportRejected(
            _(
                "%(name)s：没有找到编号任务——这是方案文件吗？（任务须为编号段落，如“（一）…”“1.…”。）"
            )
            % {"name": name}
        )
    return ParsedDocument(
        filename=name,
        sha256=hashlib.sha256(data).hexdigest(),
        paragraphs=[p for p in paragraphs if p.strip()],
        plan=parsed,
    )


@dataclass(frozen=True)
class DepartmentMatch:
    """How a department name as written maps to a department of the plan's government."""

    name: str
    department: Department | None
    how: str  # exact | short_name | alias | new

    @property
    def is_new(self) -> bool:
        return self.department is None


def match_departments(division: Division, names: Iterable[str]) -> dict[str, DepartmentMatch]:
    """Exact name, else the department's short name, else an alias from an earlier merge; a
    name without a match will be created by the import (flagged)."""
    wanted = list(dict.fromkeys(names))
    depts = list(Department.objects.filter(division=division))
    by_name = {d.name: d for d in depts}
    by_short = {d.short_name: d for d in depts if d.short_name}
    aliases = {
        a.name: a.department
        for a in DepartmentAlias.objects.filter(division=division).select_related("department")
    }
    out: dict[str, DepartmentMatch] = {}
    for name in wanted:
        if name in by_name:
            out[name] = DepartmentMatch(name, by_name[name], "exact")
        elif name in by_short:
            out[name] = DepartmentMatch(name, by_short[name], "short_name")
        elif name in aliases:
            out[name] = DepartmentMatch(name, aliases[name], "alias")
        else:
            out[name] = DepartmentMatch(name, None, "new")
    return out


_PERIOD_RE = re.compile(r"((?:19|20)\d{2})\s*(?:年)?\s*[—–\-－~～至到]+\s*((?:19|20)\d{2})")
_BODY_RE = re.compile(
    r"([\u4e00-\u9fff]{2,12}?(?:省|自治区|市|州|盟|县|区|旗)人民政府(?:办公厅|办公室)?)"
)


def guess_title(parsed: ParsedDocument) -> str:
    return parsed.plan.title or PurePath(parsed.filename).stem


def guess_issuing_body(parsed: ParsedDocument, division: Division | None) -> str:
    for par in parsed.paragraphs[:8]:
        m = _BODY_RE.search(par)
        if m:
            return m.group(1)
    return f"{division.name}人民政府" if division is not None else ""


def guess_period(parsed: ParsedDocument) -> tuple[int | None, int | None]:
    title = parsed.plan.title or ""
    m = _PERIOD_RE.search(title) or _PERIOD_RE.search(parsed.filename)
    if m:
        return int(m.group(1)), int(m.group(2))
    end = parsed.plan.target_year
    return (end - 4, end) if end else (None, None)


def text_deadline(item: PlanItem) -> dt.date | None:
    """31 December of the latest year a candidate target of the task names explicitly."""
    years = [t.year for t in item.targets if t.year and t.year_explicit]
    return dt.date(max(years), 12, 31) if years else None


def unique_keys(items: Sequence[PlanItem]) -> list[str]:
    """The items' keys, made unique within the plan (a repeated key gets ``#2``, ``#3`` …)."""
    seen: dict[str, int] = {}
    out = []
    for item in items:
        key = item.key[:240]
        seen[key] = seen.get(key, 0) + 1
        out.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    return out


@dataclass
class Preview:
    """What an import would save (shown for confirmation)."""

    parsed: ParsedDocument
    division: Division
    title: str
    issuing_body: str
    period_start: int | None
    period_end: int | None
    matches: list[DepartmentMatch]
    rows: list[dict[str, Any]] = field(default_factory=list)
    duplicate_of: Plan | None = None
    targets: list[dict[str, Any]] = field(default_factory=list)

    @property
    def new_departments(self) -> list[DepartmentMatch]:
        return [m for m in self.matches if m.is_new]

    @property
    def without_departments(self) -> int:
        return sum(1 for r in self.rows if not r["lead"] and not r["participating"])


def _names(item: PlanItem) -> list[tuple[str, str]]:
    pairs = [(n, AssignmentRole.LEAD.value) for n in item.lead_departments]
    pairs += [(n, AssignmentRole.PARTICIPATING.value) for n in item.participating_departments]
    seen: set[str] = set()
    out = []
    for name, role in pairs:
        if name not in seen:
            seen.add(name)
            out.append((name, role))
    return out


def preview_plan(*, data: bytes, filename: str, division: Division) -> Preview:
    """Parse and match departments without writing anything (raises :class:`ImportRejected`)."""
    parsed = read_document(data=data, filename=filename)
    names = [n for item in parsed.tasks for n, _role in _names(item)]
    matches = match_departments(division, names)
    start, end = guess_period(parsed)
    rows = [
        {
            "key": key,
            "number": item.number,
            "section": list(item.section),
            "title": item.title,
            "lead": list(item.lead_departments),
            "participating": list(item.participating_departments),
            "targets": len(item.targets),
            "deadline": text_deadline(item),
        }
        for key, item in zip(unique_keys(parsed.tasks), parsed.tasks, strict=True)
    ]
    return Preview(
        parsed=parsed,
        division=division,
        title=guess_title(parsed),
        issuing_body=guess_issuing_body(parsed, division),
        period_start=start,
        period_end=end,
        matches=list(matches.values()),
        rows=rows,
        duplicate_of=Plan.objects.filter(division=division, source_sha256=parsed.sha256).first(),
        targets=propose_targets(parsed, division),
    )


# --------------------------------------------------------------------------------------------
# Quantitative targets of the plan, proposed as platform targets (the officer decides)

TARGET_FIELDS = ("indicator", "value", "unit", "base_year", "year", "division")


def _region_division(region: str | None, division: Division) -> Division:
    """The division a target's region names (全省/全市… → the plan's own), within the plan's."""
    name = (region or "").strip()
    if not name or name.startswith("全") or name in (division.name, "本省", "本市"):
        return division
    found = (
        Division.objects.within(division)
        .filter(name__in=[name, name + "市", name + "州", name + "县", name + "区"])
        .order_by("level", "code")
        .first()
    )
    return found or division


def propose_targets(parsed: ParsedDocument, division: Division) -> list[dict[str, Any]]:
    """Every quantitative target of the document (``extract_targets``), as a proposal: the
    catalogue indicator, value, unit, base and target year, the division it applies to and the
    sentence.  Accepted by default when the indicator is known and the year is given."""
    from dualcontrol.core.plans_targets import extract_targets

    found = extract_targets(
        "\n".join(parsed.paragraphs),
        vocabulary=load_plan_vocabulary(),
        default_year=parsed.plan.target_year,
    )
    out = []
    for i, t in enumerate(found):
        target_division = _region_division(t.region, division)
        out.append(
            {
                "index": i,
                "indicator": t.indicator or "",
                "value": _number(t.value),
                "unit": t.unit,
                "base_year": t.base_year,
                "year": t.year,
                "division": target_division.pk,
                "division_name": target_division.name,
                "region": t.region or "",
                "sector": t.sector or "",
                "sentence": (t.sentence or t.text)[:500],
                "accept": bool(t.indicator and t.year and t.base_year and not t.sector),
            }
        )
    return out


def target_decisions(
    proposals: Sequence[Mapping[str, Any]], post: Mapping[str, Any], allowed_divisions: Any
) -> tuple[list[dict[str, Any]], list[str]]:
    """The officer's decisions from the confirmation form (``tp-<i>-accept`` and the edited
    fields): every proposal with ``accept`` and its values, and every problem (index, field,
    reason) of the accepted ones."""
    from dualcontrol.targets.models import Target

    indicators = {c for c, _label in Target._meta.get_field("indicator").choices or []}
    decided: list[dict[str, Any]] = []
    problems: list[str] = []
    for p in proposals:
        i = p["index"]
        row = dict(p)
        row["accept"] = post.get(f"tp-{i}-accept") == "on"
        for name in TARGET_FIELDS:
            key = f"tp-{i}-{name}"
            if key in post:
                row[name] = str(post.get(key, "")).strip()
        if row["accept"]:
            where = _("候选指标第 %(n)s 条") % {"n": i + 1}
            if row.get("indicator") not in indicators:
                problems.append(
                    _("%(w)s：指标 %(v)s 不在指标目录中")
                    % {"w": where, "v": row.get("indicator") or "—"}
                )
            try:
                row["value"] = str(Decimal(str(row.get("value"))))
            except (InvalidOperation, ValueError):
                problems.append(
                    _("%(w)s：数值 %(v)s 不是数字") % {"w": where, "v": row.get("value")}
                )
            for y in ("base_year", "year"):
                try:
                    row[y] = int(str(row.get(y)))
                    if not 2000 <= row[y] <= 2100:
                        raise ValueError
                except (TypeError, ValueError):
                    problems.append(
                        _("%(w)s：%(f)s 须为年份")
                        % {"w": where, "f": _("基期年") if y == "base_year" else _("目标年")}
                    )
            if (
                isinstance(row.get("base_year"), int)
                and isinstance(row.get("year"), int)
                and row["base_year"] >= row["year"]
            ):
                problems.append(_("%(w)s：基期年须早于目标年") % {"w": where})
            try:
                division_id = int(str(row.get("division")))
            except (TypeError, ValueError):
                division_id = 0
            if not allowed_divisions.filter(pk=division_id).exists():
                problems.append(_("%(w)s：地区不在本方案范围内") % {"w": where})
            row["division"] = division_id
        decided.append(row)
    return decided, problems


def _create_targets(
    decisions: Sequence[Mapping[str, Any]], *, plan: Plan, user: Any
) -> list[dict[str, Any]]:
    """Accepted proposals → platform targets (in the import's transaction); the record of every
    decision is kept on the plan."""
    from dualcontrol.targets import services as target_services

    kept = []
    problems = []
    for d in decisions:
        row = {
            k: d.get(k) for k in (*TARGET_FIELDS, "index", "sentence", "region", "sector", "accept")
        }
        if d.get("accept"):
            division = Division.objects.get(pk=d["division"])
            years = int(d["year"]) - int(d["base_year"])
            try:
                target = target_services.create_target(
                    user=user,
                    indicator=d["indicator"],
                    division=division,
                    period_kind="five_year" if years == 5 else "year",
                    base_year=int(d["base_year"]),
                    end_year=int(d["year"]),
                    base_value=Decimal(str(d["value"])),
                    unit=str(d.get("unit") or ""),
                    source_document=f"{plan.title}：{d.get('sentence', '')}"[:500],
                )
            except Exception as exc:
                problems.append(
                    _("候选指标第 %(n)s 条：%(e)s") % {"n": int(d["index"]) + 1, "e": exc}
                )
                continue
            row["target"] = target.pk
        kept.append(row)
    if problems:
        raise ImportRejected(problems)
    return kept


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _target_json(item: PlanItem) -> list[dict[str, Any]]:
    """候选指标 as stored (the shape of ``dualcontrol plans parse --format json``)."""
    return [
        {
            "value": _number(t.value),
            "value_max": _number(t.value_max),
            "unit": t.unit,
            "year": t.year,
            "year_explicit": t.year_explicit,
            "text": t.text,
        }
        for t in item.targets
    ]


# --------------------------------------------------------------------------------------------
# Import


def import_plan(
    *,
    target_decisions: Sequence[Mapping[str, Any]] | None = None,
    data: bytes,
    filename: str,
    division: Division,
    user: Any,
    title: str = "",
    issuing_body: str = "",
    period_start: int | None = None,
    period_end: int | None = None,
    office: Department | None = None,
    tracking_start: dt.date | None = None,
    default_deadline: dt.date | None = None,
    deadlines: Mapping[str, dt.date | None] | None = None,
    deadlines_from_text: bool = True,
    is_demo: bool = False,
) -> Plan:
    """Import a plan document with every numbered task and its departments — all or nothing.

    Deadlines, first that applies: ``deadlines[task key]`` (set by the office), the latest year a
    task's candidate targets name explicitly (``到2017年…`` → 2017-12-31, when
    ``deadlines_from_text``), ``default_deadline`` (the plan's), else none.  Department names are
    matched by :func:`match_departments`; an unmatched name becomes a new department of the
    plan's government, flagged (:class:`ImportedDepartment`) for the office to merge or confirm.
    ``user`` None = a system job (the demo, the CLI without a user).
    """
    if user is not None and not access.can_import(user):
        raise TaskPermissionDenied(_("只有省级管理员和省级部门人员可以导入方案。"))
    parsed = read_document(data=data, filename=filename)
    problems: list[str] = []
    title = (title or guess_title(parsed)).strip()
    if not title:
        problems.append(_("方案名称不能为空。"))
    if len(title) > 255:
        problems.append(_("方案名称超过 255 个字符。"))
    if period_start is None and period_end is None:
        period_start, period_end = guess_period(parsed)
    for label, year in ((_("起始年"), period_start), (_("终止年"), period_end)):
        if year is not None and not 1949 <= year <= 2100:
            problems.append(_("%(label)s %(year)s 不是有效年份。") % {"label": label, "year": year})
    if period_start and period_end and period_start > period_end:
        problems.append(_("起始年晚于终止年。"))
    items = list(parsed.tasks)
    keys = unique_keys(items)
    unknown = sorted(set(deadlines or {}) - set(keys))
    if unknown:
        problems.append(
            _("期限表中的任务编号在方案中不存在：%(keys)s") % {"keys": "、".join(unknown[:10])}
        )
    names = [n for item in items for n, _role in _names(item)]
    too_long = sorted({n for n in names if len(n) > NAME_MAX})
    if too_long:
        problems.append(
            _("部门名称超过 %(n)s 个字符：%(names)s")
            % {"n": NAME_MAX, "names": "、".join(too_long)}
        )
    if office is not None and office.division_id is None:
        problems.append(_("方案办公室须为某一政府的部门。"))
    duplicate = Plan.objects.filter(division=division, source_sha256=parsed.sha256).first()
    if duplicate is not None:
        problems.append(
            _("同一文件已导入为方案“%(title)s”（%(at)s），不重复导入。")
            % {
                "title": duplicate.title,
                "at": f"{timezone.localtime(duplicate.imported_at):%Y-%m-%d}",
            }
        )
    if problems:
        if duplicate is not None and len(problems) == 1:
            raise PlanAlreadyImported(problems)
        raise ImportRejected(problems)
    if office is None and user is not None and access.own_department(user) is not None:
        office = user.department
    tracking_start = tracking_start or timezone.localdate()
    try:
        with transaction.atomic():
            plan = Plan.objects.create(
                title=title,
                filename=parsed.filename,
                issuing_body=(issuing_body or guess_issuing_body(parsed, division))[:128],
                division=division,
                office=office,
                period_start=period_start,
                period_end=period_end,
                target_year=parsed.plan.target_year,
                lead_rule=parsed.plan.lead_rule,
                vocabulary_version=parsed.plan.vocabulary_version[:80],
                source_sha256=parsed.sha256,
                source_text="\n".join(parsed.paragraphs),
                tracking_start=tracking_start,
                imported_by=user if getattr(user, "is_authenticated", False) else None,
                is_demo=is_demo,
            )
            matches = match_departments(division, names)
            created: list[str] = []
            dept_of: dict[str, Department] = {}
            for name, m in matches.items():
                if m.department is not None:
                    dept_of[name] = m.department
                    continue
                dept = Department.objects.create(
                    division=division,
                    name=name,
                    source=f"plan import (dualcontrol.tasks): {parsed.filename}"[:255],
                )
                ImportedDepartment.objects.create(department=dept, plan=plan)
                dept_of[name] = dept
                created.append(name)
            tasks = []
            for position, (key, item) in enumerate(zip(keys, items, strict=True), start=1):
                deadline, source = None, DeadlineSource.NONE
                if deadlines and key in deadlines:
                    deadline, source = deadlines[key], DeadlineSource.OFFICE
                elif deadlines_from_text and text_deadline(item) is not None:
                    deadline, source = text_deadline(item), DeadlineSource.TEXT
                elif default_deadline is not None:
                    deadline, source = default_deadline, DeadlineSource.PLAN
                tasks.append(
                    PlanTask(
                        plan=plan,
                        position=position,
                        number=item.number[:32],
                        key=key,
                        section=list(item.section),
                        title=item.title[:512],
                        text=item.text,
                        attribution=item.attribution.clause if item.attribution else "",
                        line=item.line,
                        targets=_target_json(item),
                        deadline=deadline,
                        deadline_source=source if deadline else DeadlineSource.NONE,
                        last_activity_on=tracking_start,
                    )
                )
            PlanTask.objects.bulk_create(tasks, batch_size=500)
            saved = {t.position: t for t in PlanTask.objects.filter(plan=plan)}
            assignments = []
            for position, item in enumerate(items, start=1):
                used: set[int] = set()
                for order, (name, role) in enumerate(_names(item)):
                    dept = dept_of[name]
                    if dept.pk in used:  # two spellings matched one department: keep the first
                        continue
                    used.add(dept.pk)
                    assignments.append(
                        TaskAssignment(
                            task=saved[position],
                            department=dept,
                            role=role,
                            name_as_written=name[:128],
                            position=order,
                        )
                    )
            TaskAssignment.objects.bulk_create(assignments, batch_size=1000)
            if target_decisions:
                plan.target_proposals = _create_targets(target_decisions, plan=plan, user=user)
                plan.save(update_fields=["target_proposals"])
            record(
                actor=user,
                action="tasks.plan.import",
                obj=plan,
                after={
                    "filename": parsed.filename,
                    "sha256": parsed.sha256,
                    "division": division.code,
                    "tasks": len(tasks),
                    "assignments": len(assignments),
                    "created_departments": created,
                    "vocabulary": parsed.plan.vocabulary_version,
                    "deadlines": sum(1 for t in tasks if t.deadline),
                    "targets_accepted": sum(1 for t in plan.target_proposals if t.get("target")),
                    "targets_rejected": sum(
                        1 for t in plan.target_proposals if not t.get("accept")
                    ),
                    "demo": is_demo,
                },
            )
    except IntegrityError as exc:  # a concurrent import of the same file
        raise ImportRejected(
            _("导入未完成（数据冲突：%(e)s），未保存任何内容。") % {"e": exc}
        ) from exc
    return plan


# --------------------------------------------------------------------------------------------
# Import in two steps (the page 上传规划文件 and the API): the file is parsed and staged for the
# user who uploaded it; the confirmation imports the staged file with the office's choices

STAGING_MAX_AGE_S = 24 * 3600  # platform rule: a preview not confirmed within a day is gone


@dataclass(frozen=True)
class StagedPlan:
    """A parsed plan file waiting for its confirmation."""

    token: str
    data: bytes
    filename: str
    division_id: int


def _staging_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "tasks" / "staging"


def _staged_paths(token: str) -> tuple[Path, Path]:
    folder = _staging_dir()
    return folder / token, folder / f"{token}.json"


def stage_plan(*, data: bytes, filename: str, division: Division, user: Any) -> tuple[str, Preview]:
    """Parse a plan file for the office's confirmation without importing anything: the preview
    and a token naming the staged file, valid for ``user`` for :data:`STAGING_MAX_AGE_S`
    (raises :class:`ImportRejected`)."""
    preview = preview_plan(data=data, filename=filename, division=division)
    folder = _staging_dir()
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in folder.iterdir():
        if old.is_file() and now - old.stat().st_mtime > STAGING_MAX_AGE_S:
            old.unlink(missing_ok=True)
    token = secrets.token_hex(16)
    path, meta = _staged_paths(token)
    path.write_bytes(data)
    meta.write_text(
        json.dumps(
            {
                "filename": preview.parsed.filename,
                "division": division.pk,
                "user": getattr(user, "pk", None),
                "at": now,
            }
        ),
        encoding="utf-8",
    )
    return token, preview


def staged_plan(*, token: str, user: Any) -> StagedPlan | None:
    """The file ``user`` staged under ``token`` (None: unknown, expired, or someone else's)."""
    if not token or not token.isalnum():
        return None
    path, meta_path = _staged_paths(token)
    if not path.is_file() or not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("user") != getattr(user, "pk", None):
        return None
    if time.time() - float(meta.get("at", 0)) > STAGING_MAX_AGE_S:
        return None
    return StagedPlan(token, path.read_bytes(), str(meta["filename"]), int(meta["division"]))


def unstage_plan(token: str) -> None:
    for path in _staged_paths(token):
        path.unlink(missing_ok=True)


def plan_offices(user: Any, division: Division) -> Any:
    """The departments that may be a plan's office, when ``user`` picks it (the province
    administrator: the departments of the plan's government and of its province); None: the
    user's own department is the office of the plans it imports."""
    if not access.is_plan_administrator(user):
        return None
    province = division
    while province.parent_id is not None:
        province = province.parent
    return Department.objects.filter(division_id__in={division.pk, province.pk}).order_by(
        "division__code", "name"
    )


def import_staged_plan(
    *,
    staged: StagedPlan,
    division: Division,
    user: Any,
    target_fields: Mapping[str, Any] | None = None,
    title: str = "",
    issuing_body: str = "",
    period_start: int | None = None,
    period_end: int | None = None,
    office: Department | None = None,
    tracking_start: dt.date | None = None,
    default_deadline: dt.date | None = None,
    deadlines_from_text: bool = True,
) -> Plan:
    """Confirm a staged import (:func:`import_plan`, audited ``tasks.plan.import``) and remove
    the staged file.  ``target_fields``: the confirmation's decisions on the proposed targets
    (``tp-<i>-accept`` and the edited fields, as :func:`target_decisions` reads them); None
    accepts the proposals as previewed.  Raises :class:`TargetsRejected` when an accepted
    proposal has problems, :class:`ImportRejected` otherwise; nothing is written then."""
    preview = preview_plan(data=staged.data, filename=staged.filename, division=division)
    if target_fields is None:
        target_fields = {f"tp-{p['index']}-accept": "on" for p in preview.targets if p["accept"]}
    decisions, problems = target_decisions(
        preview.targets,
        target_fields,
        visible_divisions(user).filter(pk__in=Division.objects.within(division).values("pk")),
    )
    named = {int(m.group(1)) for k in target_fields if (m := re.match(r"tp-(\d+)-", str(k)))}
    unknown = sorted(named - {p["index"] for p in preview.targets})
    if unknown:
        problems.append(
            _("候选指标第 %(n)s 条不存在") % {"n": "、".join(str(i + 1) for i in unknown)}
        )
    if problems:
        raise TargetsRejected(problems, decisions, preview)
    plan = import_plan(
        target_decisions=decisions,
        data=staged.data,
        filename=staged.filename,
        division=division,
        user=user,
        title=title,
        issuing_body=issuing_body,
        period_start=period_start,
        period_end=period_end,
        office=office,
        tracking_start=tracking_start,
        default_deadline=default_deadline,
        deadlines_from_text=deadlines_from_text,
    )
    unstage_plan(staged.token)
    return plan


# --------------------------------------------------------------------------------------------
# Deadlines and status (the plan office)

_UNSET: Any = object()


def set_task(
    *,
    task: PlanTask,
    user: Any,
    deadline: dt.date | None = _UNSET,
    status: str | None = None,
    note: str = "",
) -> PlanTask:
    """The plan office sets a task's deadline (None clears it) and/or stored status."""
    if user is not None and not access.can_manage(user, task.plan):
        raise TaskPermissionDenied(_("只有方案办公室和省级管理员可以设定期限和状态。"))
    if status is not None and status not in TaskStatus.values:
        raise ValueError(f"unknown status {status!r}")
    fields = ["deadline", "deadline_source", "status"]
    with transaction.atomic():
        task = PlanTask.objects.select_for_update().get(pk=task.pk)
        before = snapshot(task, fields)
        if deadline is not _UNSET:
            task.deadline = deadline
            task.deadline_source = DeadlineSource.OFFICE if deadline else DeadlineSource.NONE
        if status is not None:
            task.status = status
        task.save(update_fields=fields)
        record(
            actor=user,
            action="tasks.task.set",
            obj=task,
            before=before,
            after=snapshot(task, fields),
            note=note[:500],
        )
    return task


def set_deadlines(
    *,
    plan: Plan,
    user: Any,
    deadline: dt.date | None,
    task_ids: Iterable[int] | None = None,
    only_missing: bool = False,
) -> int:
    """One deadline for many tasks of a plan (all, or ``task_ids``); returns how many changed."""
    if user is not None and not access.can_manage(user, plan):
        raise TaskPermissionDenied(_("只有方案办公室和省级管理员可以设定期限和状态。"))
    with transaction.atomic():
        qs = PlanTask.objects.filter(plan=plan)
        if task_ids is not None:
            qs = qs.filter(pk__in=list(task_ids))
        if only_missing:
            qs = qs.filter(deadline__isnull=True)
        keys = list(qs.values_list("key", flat=True))
        n = qs.update(
            deadline=deadline,
            deadline_source=DeadlineSource.OFFICE if deadline else DeadlineSource.NONE,
        )
        record(
            actor=user,
            action="tasks.plan.deadlines",
            obj=plan,
            after={
                "deadline": deadline.isoformat() if deadline else None,
                "tasks": n,
                "keys": keys[:200],
            },
        )
    return n


# --------------------------------------------------------------------------------------------
# Progress reports


def validate_evidence(upload: UploadedFile, rules: TaskRules) -> str | None:
    """A reason to refuse the evidence file, or None (size, extension, and leading bytes)."""
    return refusal(upload, extensions=rules.evidence_extensions, max_bytes=rules.evidence_max_bytes)


def _task_percent(task: PlanTask) -> int:
    assignments = list(task.assignments.all())
    leads = [a for a in assignments if a.role == AssignmentRole.LEAD] or assignments
    reported = [a.percent_complete for a in leads]
    return int(sum(reported) / len(reported)) if reported else 0


def file_progress(
    *,
    task: PlanTask,
    department: Department,
    user: Any,
    period: str,
    narrative: str,
    percent_complete: int,
    blocked: bool = False,
    evidence: UploadedFile | None = None,
    submitted_at: dt.datetime | None = None,
    is_demo: bool = False,
) -> ProgressReport:
    """A responsible department reports progress on a task (with optional evidence).

    The department's progress becomes ``percent_complete``; the task's is the mean over its lead
    departments.  The task becomes 推进中, 停滞 when the report says progress is blocked, and
    已完成 when its progress reaches 100 %.  ``user`` None = a system job (the demo)."""
    if user is not None and not access.can_file(user, task, department):
        raise TaskPermissionDenied(_("只能为本部门负责的任务报送进展。"))
    rules = load_rules()
    problems: dict[str, str] = {}
    period = (period or "").strip()
    narrative = (narrative or "").strip()
    if not valid_period(period):
        problems["period"] = _("报送期格式应为 2026Q1、2026H1、2026-03 或 2026。")
    if not narrative:
        problems["narrative"] = _("请填写进展情况。")
    elif len(narrative) > 5000:
        problems["narrative"] = _("进展情况不超过 5000 字。")
    if not isinstance(percent_complete, int) or not 0 <= percent_complete <= 100:
        problems["percent_complete"] = _("完成进度须为 0–100 的整数。")
    assignment = TaskAssignment.objects.filter(task=task, department=department).first()
    if assignment is None:
        problems["department"] = _("该部门不是此任务的责任单位。")
    if evidence is not None:
        reason = validate_evidence(evidence, rules)
        if reason:
            problems["evidence"] = reason
    if problems:
        raise ProgressRejected(problems)
    assert assignment is not None
    at = submitted_at or timezone.now()
    report = ProgressReport(
        task=task,
        department=department,
        period=period,
        narrative=narrative,
        percent_complete=percent_complete,
        blocked=blocked,
        submitted_by=user if getattr(user, "is_authenticated", False) else None,
        submitted_at=at,
        is_demo=is_demo,
    )
    stored: str | None = None
    try:
        with transaction.atomic():
            if evidence is not None:
                report.evidence_name = PurePath(evidence.name or "").name[:255]
                report.evidence_size = evidence.size
                report.evidence.save(report.evidence_name, evidence, save=False)
                stored = report.evidence.name
            report.save()
            TaskAssignment.objects.filter(pk=assignment.pk).update(
                percent_complete=percent_complete, last_report_at=at
            )
            locked = PlanTask.objects.select_for_update().get(pk=task.pk)
            before = snapshot(locked, ["status", "percent_complete", "last_activity_on"])
            locked.percent_complete = _task_percent(locked)
            if locked.last_report_at is None or at > locked.last_report_at:
                locked.last_report_at = at
            day = timezone.localdate(at)
            locked.last_activity_on = max(locked.last_activity_on, day)
            if locked.percent_complete >= 100:
                locked.status = TaskStatus.COMPLETED
            elif locked.status != TaskStatus.COMPLETED:
                locked.status = TaskStatus.STALLED if blocked else TaskStatus.IN_PROGRESS
            locked.save(
                update_fields=["percent_complete", "last_report_at", "last_activity_on", "status"]
            )
            record(
                actor=user,
                action="tasks.progress.file",
                obj=report,
                before=before,
                after={
                    **snapshot(locked, ["status", "percent_complete", "last_activity_on"]),
                    "department": department.name,
                    "period": period,
                    "evidence": report.evidence.name or None,
                    "demo": is_demo,
                },
                note=_("代部门报送")
                if user is not None and user.department_id != department.pk
                else "",
            )
    except Exception:
        if stored:
            report.evidence.storage.delete(stored)
        raise
    task.refresh_from_db()
    return report


# --------------------------------------------------------------------------------------------
# Departments created by an import


def resolvable_departments(user: Any) -> Any:
    """The import-created departments ``user`` may confirm or merge (the flags, with their
    department): the administrator's province, else those of the plans the user manages."""
    qs = ImportedDepartment.objects.select_related("department", "department__division", "plan")
    if access.is_plan_administrator(user):
        # the departments of the administrator's own province (issue 22: several provinces)
        return qs.filter(department__in=access.viewable_departments(user))
    return qs.filter(plan__in=access.managed_plans(user))


def confirm_department(*, department: Department, user: Any) -> None:
    """The office keeps an import-created department as a department in its own right."""
    flag = ImportedDepartment.objects.filter(department=department).select_related("plan").first()
    if flag is None:
        raise MergeRefused(_("%(name)s 不是导入时新建的部门。") % {"name": department.name})
    if user is not None and not _may_resolve(user, flag):
        raise TaskPermissionDenied(_("只有方案办公室和省级管理员可以处理导入新建的部门。"))
    with transaction.atomic():
        flag.delete()
        record(actor=user, action="tasks.department.confirm", obj=department)


def _may_resolve(user: Any, flag: ImportedDepartment) -> bool:
    if access.is_plan_administrator(user):
        return True
    return flag.plan is not None and access.can_manage(user, flag.plan)


def merge_department(*, source: Department, into: Department, user: Any) -> int:
    """Merge an import-created department into an existing one of the same government: its
    assignments and progress reports move, its name becomes an alias (later imports match it),
    and it is deleted.  Returns the number of assignments moved."""
    flag = ImportedDepartment.objects.filter(department=source).select_related("plan").first()
    if flag is None:
        raise MergeRefused(_("只能合并导入时新建的部门：%(name)s 不是。") % {"name": source.name})
    if user is not None and not _may_resolve(user, flag):
        raise TaskPermissionDenied(_("只有方案办公室和省级管理员可以处理导入新建的部门。"))
    if into.pk == source.pk:
        raise MergeRefused(_("不能合并到自身。"))
    if into.division_id != source.division_id:
        raise MergeRefused(_("只能合并到同一政府的部门。"))
    if source.users.exists():
        raise MergeRefused(
            _("%(name)s 已有用户账号，请先把这些用户改到 %(into)s。")
            % {"name": source.name, "into": into.name}
        )
    moved = 0
    with transaction.atomic():
        for a in TaskAssignment.objects.filter(department=source).select_related("task"):
            existing = TaskAssignment.objects.filter(task=a.task, department=into).first()
            if existing is None:
                a.department = into
                a.save(update_fields=["department"])
            else:
                if a.role == AssignmentRole.LEAD and existing.role != AssignmentRole.LEAD:
                    existing.role = AssignmentRole.LEAD
                if (a.last_report_at or dt.datetime.min.replace(tzinfo=dt.UTC)) > (
                    existing.last_report_at or dt.datetime.min.replace(tzinfo=dt.UTC)
                ):
                    existing.percent_complete = a.percent_complete
                    existing.last_report_at = a.last_report_at
                existing.save()
                a.delete()
            moved += 1
        ProgressReport.objects.filter(department=source).update(department=into)
        DepartmentAlias.objects.update_or_create(
            division_id=source.division_id,
            name=source.name,
            defaults={
                "department": into,
                "created_by": user if getattr(user, "is_authenticated", False) else None,
            },
        )
        DepartmentAlias.objects.filter(department=source).update(department=into)
        name, pk = source.name, source.pk
        try:
            with transaction.atomic():
                flag.delete()
                source.delete()
        except ProtectedError as exc:
            raise MergeRefused(
                _("%(name)s 仍被其他数据引用，不能删除：%(e)s") % {"name": name, "e": exc}
            ) from exc
        record(
            actor=user,
            action="tasks.department.merge",
            obj=into,
            before={"department_id": pk, "name": name},
            after={"into": into.pk, "assignments": moved},
        )
    return moved
