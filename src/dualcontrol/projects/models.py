"""The project registry (项目库): key emission-reduction projects and energy-saving projects.

:class:`Project` holds what every kind of project shares — owner unit, region, industry, schedule
(:class:`Milestone`), evidence files (:class:`Evidence`), status and the figures it plans and has had
verified per measure (:class:`ProjectFigure`: t of COD / NH3-N / NOx / VOCs, tce of energy saved).
:class:`Verification` records every decision (认可 or 不予认可) with who, when, the figures and the
rules version; :class:`ProjectAlert` is the in-app notice of a late project (建设滞后).

Issue 20 (investment projects, capacity elimination) adds kinds to :class:`Kind` and its own detail
tables keyed one-to-one on :class:`Project`; schedule, evidence, verification and alerts are shared.
Only :mod:`dualcontrol.projects.services` writes here.
"""

from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

AMOUNT = {"max_digits": 16, "decimal_places": 3}


class Kind(models.TextChoices):
    """项目类别 (issue 20 adds investment projects and capacity elimination)."""

    KEY_REDUCTION = "key_reduction", _("重点减排工程")
    ENERGY_SAVING = "energy_saving", _("节能项目")
    INVESTMENT = "investment", _("固定资产投资项目")


#: the kinds of the reduction registry (ledger, verification, lateness); investment projects have
#: their own workflow (:class:`InvestmentProject`)
REGISTRY_KINDS = (Kind.KEY_REDUCTION, Kind.ENERGY_SAVING)


class Status(models.TextChoices):
    """Stored status (建设滞后 is derived from the schedule, never stored)."""

    PLANNED = "planned", _("计划（未开工）")
    CONSTRUCTION = "construction", _("在建")
    COMPLETED = "completed", _("已完成，待核查")
    VERIFIED = "verified", _("已认可")
    REJECTED = "rejected", _("不予认可")


#: statuses of a project still being built (the only ones that can be late)
UNFINISHED = (Status.PLANNED, Status.CONSTRUCTION)


class Project(models.Model):
    """项目 — a key emission-reduction or energy-saving project of a region (and, often, a unit)."""

    kind = models.CharField(_("项目类别"), max_length=24, choices=Kind.choices)
    type_code = models.CharField(
        _("项目类型"), max_length=40, help_text=_("reference/data/project_types.csv")
    )
    name = models.CharField(_("项目名称"), max_length=200)
    registry_code = models.CharField(
        _("项目编号（上级系统）"),
        max_length=64,
        blank=True,
        help_text=_("如国家减排系统中的项目编号；可空。"),
    )
    entity = models.ForeignKey(
        "entities.Entity",
        verbose_name=_("项目单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
    )
    owner_name = models.CharField(
        _("项目单位名称（未在报告单位名录中时）"), max_length=200, blank=True
    )
    division = models.ForeignKey(
        "regions.Division",
        verbose_name=_("所在地区"),
        on_delete=models.PROTECT,
        related_name="projects",
    )
    industry = models.ForeignKey(
        "entities.Industry",
        verbose_name=_("行业"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.TextField(_("建设内容"), blank=True)
    planned_start = models.DateField(_("计划开工日期"))
    planned_completion = models.DateField(_("计划完成日期"))
    actual_start = models.DateField(_("实际开工日期"), null=True, blank=True)
    actual_completion = models.DateField(_("实际完成（验收）日期"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PLANNED, db_index=True
    )
    rejection_reason = models.TextField(_("不予认可理由"), blank=True)
    accounting_year = models.PositiveSmallIntegerField(
        _("核算年度"), null=True, blank=True, db_index=True
    )
    is_synthetic = models.BooleanField(_("演示数据（合成）"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        ordering = ["division__code", "name", "id"]
        verbose_name = _("减排项目")
        verbose_name_plural = _("减排项目")
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_completion__gte=F("planned_start")),
                name="project_planned_order",
            ),
            models.CheckConstraint(
                condition=Q(accounting_year__isnull=True) | Q(status="verified"),
                name="project_year_only_when_verified",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def owner_label(self) -> str:
        return self.entity.name if self.entity_id and self.entity else self.owner_name


class ProjectFigure(models.Model):
    """One measure of a project: planned, and the verified figure in force (None unless 已认可)."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="figures"
    )
    measure = models.CharField(_("指标"), max_length=16)
    planned_amount = models.DecimalField(_("计划减排量/节能量"), default=0, **AMOUNT)
    verified_amount = models.DecimalField(_("核定减排量/节能量"), null=True, blank=True, **AMOUNT)

    class Meta:
        ordering = ["project", "measure"]
        verbose_name = _("项目减排量")
        verbose_name_plural = _("项目减排量")
        constraints = [
            models.UniqueConstraint(fields=["project", "measure"], name="project_figure_measure")
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.measure}"


class Milestone(models.Model):
    """里程碑 — a dated step of the schedule (开工、主体完工、调试 …)."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="milestones"
    )
    name = models.CharField(_("节点"), max_length=120)
    due_date = models.DateField(_("计划日期"))
    done_on = models.DateField(_("完成日期"), null=True, blank=True)

    class Meta:
        ordering = ["project", "due_date", "id"]
        verbose_name = _("里程碑")
        verbose_name_plural = _("里程碑")

    def __str__(self) -> str:
        return f"{self.project} · {self.name}"


def evidence_path(instance: Evidence, filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()[:10]
    return (
        f"projects/evidence/{timezone.localdate():%Y/%m}/"
        f"project{instance.project_id}-{instance.kind}-{timezone.now():%H%M%S%f}{suffix}"
    )


class Evidence(models.Model):
    """证明材料 — a document filed for a project (kind per ``project_rules.yaml`` evidence)."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="evidence"
    )
    kind = models.CharField(_("材料类型"), max_length=32)
    document = models.FileField(_("文件"), upload_to=evidence_path, max_length=255)
    document_name = models.CharField(_("文件名"), max_length=255)
    size_bytes = models.PositiveIntegerField(_("大小（字节）"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    note = models.CharField(_("说明"), max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"))
    is_synthetic = models.BooleanField(_("演示数据（合成）"), default=False)

    class Meta:
        ordering = ["project", "kind", "uploaded_at", "id"]
        verbose_name = _("证明材料")
        verbose_name_plural = _("证明材料")

    def __str__(self) -> str:
        return f"{self.project} · {self.document_name}"


class Decision(models.TextChoices):
    VERIFIED = "verified", _("认可")
    REJECTED = "rejected", _("不予认可")


class Verification(models.Model):
    """核查记录 — one decision on a completed project, kept for good (re-submission adds another)."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="verifications"
    )
    decision = models.CharField(_("结论"), max_length=10, choices=Decision.choices)
    automatic = models.BooleanField(
        _("因缺少必需材料不予认可"),
        default=False,
        help_text=_("规则判定：项目类型要求的证明材料不全。"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核查人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by_name = models.CharField(_("核查人账号"), max_length=150, blank=True)
    decided_at = models.DateTimeField(_("核查时间"))
    accounting_year = models.PositiveSmallIntegerField(_("核算年度"), null=True, blank=True)
    figures = models.JSONField(_("核定数（按指标）"), default=dict, blank=True)
    reason = models.TextField(_("不予认可理由"), blank=True)
    missing_evidence = models.JSONField(_("缺少的材料"), default=list, blank=True)
    evidence_ids = models.JSONField(_("核查时在案的材料"), default=list, blank=True)
    note = models.TextField(_("核查意见"), blank=True)
    rules_version = models.CharField(_("规则版本"), max_length=128)

    class Meta:
        ordering = ["-decided_at", "-id"]
        verbose_name = _("核查记录")
        verbose_name_plural = _("核查记录")

    def __str__(self) -> str:
        return f"{self.project} {self.get_decision_display()} {self.decided_at:%Y-%m-%d}"


class ProjectAlert(models.Model):
    """滞后提醒 to a responsible officer or the project's unit (in-app inbox)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_alerts"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="alerts")
    key = models.CharField(_("提醒事由"), max_length=64)
    subject = models.CharField(_("主题"), max_length=255)
    body = models.TextField(_("内容"))
    created = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("项目提醒")
        verbose_name_plural = _("项目提醒")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "project", "key"], name="project_alert_once"
            )
        ]

    def __str__(self) -> str:
        return self.subject


# ============================================================================================
# Issue 20: fixed-asset investment projects (节能审查和碳排放评价), capacity elimination
# ============================================================================================


class Stage(models.TextChoices):
    """“两高”项目清单的状态 (1310号: 在建、拟建、存量)."""

    PROPOSED = "proposed", _("拟建")
    CONSTRUCTION = "construction", _("在建")
    EXISTING = "existing", _("存量")


class ReviewStatus(models.TextChoices):
    NOT_SUBMITTED = "not_submitted", _("未报审")
    SUBMITTED = "submitted", _("已受理，待审查")
    APPROVED = "approved", _("审查通过")
    REJECTED = "rejected", _("不予通过")
    EXEMPT = "exempt", _("不单独进行节能审查")


class Replacement(models.TextChoices):
    NONE = "", _("无")
    EQUAL = "equal", _("等量替代")
    REDUCED = "reduced", _("减量替代")


class InvestmentProject(models.Model):
    """固定资产投资项目 — the investment details of a :class:`Project` of kind ``investment``:
    capacity, planned annual energy (当量/等价, by fuel) and CO2, value added, the 两高 classification
    (computed by the rule), the energy review and carbon evaluation, the replacement source and the
    能耗单列 flag."""

    project = models.OneToOneField(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="investment"
    )
    stage = models.CharField(
        _("状态"), max_length=16, choices=Stage.choices, default=Stage.PROPOSED, db_index=True
    )
    capacity_value = models.DecimalField(_("产能/规模"), null=True, blank=True, **AMOUNT)
    capacity_unit = models.CharField(_("产能单位"), max_length=32, blank=True)
    sector_code = models.CharField(
        _("产能置换行业"), max_length=32, blank=True, help_text=_("steel / cement …")
    )
    energy_equivalent_tce = models.DecimalField(_("年综合能源消费量（当量值，吨标准煤）"), **AMOUNT)
    energy_equal_value_tce = models.DecimalField(
        _("年综合能源消费量（等价值，吨标准煤）"), null=True, blank=True, **AMOUNT
    )
    electricity_kwh = models.DecimalField(
        _("年电力消费量（千瓦时）"), null=True, blank=True, **AMOUNT
    )
    coal_t = models.DecimalField(_("年煤炭消费量（吨）"), null=True, blank=True, **AMOUNT)
    fuels = models.JSONField(_("分品种能源消费"), default=list, blank=True)
    is_increment = models.BooleanField(_("改建项目按增量计算"), default=False)
    co2_t = models.DecimalField(_("年二氧化碳排放量（吨）"), default=0, **AMOUNT)
    value_added_10k_yuan = models.DecimalField(_("年增加值（万元，可比价）"), default=0, **AMOUNT)
    operation_date = models.DateField(_("计划投产日期"), null=True, blank=True)
    two_high = models.BooleanField(_("两高项目"), default=False, db_index=True)
    two_high_possible = models.BooleanField(_("可能为两高（按主产品认定）"), default=False)
    two_high_basis = models.JSONField(_("两高认定依据"), default=list, blank=True)
    separately_accounted = models.BooleanField(_("能耗单列（国家重大项目）"), default=False)
    separate_list_ref = models.CharField(_("国家重大项目清单依据"), max_length=255, blank=True)
    review_status = models.CharField(
        _("节能审查"),
        max_length=16,
        choices=ReviewStatus.choices,
        default=ReviewStatus.NOT_SUBMITTED,
        db_index=True,
    )
    review_authority = models.CharField(_("审查权限"), max_length=16, blank=True)
    review_rule = models.CharField(_("审查权限依据"), max_length=32, blank=True)
    review_document_no = models.CharField(_("节能审查意见文号"), max_length=64, blank=True)
    reviewed_on = models.DateField(_("审查日期"), null=True, blank=True)
    review_conclusion = models.TextField(_("审查结论"), blank=True)
    review_conditions = models.TextField(_("审查意见中的要求（条件）"), blank=True)
    carbon_conclusion = models.TextField(_("碳排放评价结果"), blank=True)
    replacement = models.CharField(
        _("替代来源"), max_length=8, choices=Replacement.choices, blank=True, default=""
    )
    replaced_capacity = models.DecimalField(_("替代的产能"), null=True, blank=True, **AMOUNT)
    replaced_energy_tce = models.DecimalField(
        _("替代的能耗（吨标准煤）"), null=True, blank=True, **AMOUNT
    )
    replacement_source = models.TextField(_("替代来源说明（单位、生产线、设备）"), blank=True)
    replacement_zone = models.CharField(_("置换区域"), max_length=16, blank=True)
    replacement_case = models.CharField(_("置换情形"), max_length=32, blank=True)
    gating_version = models.CharField(_("规则版本"), max_length=128, blank=True)

    class Meta:
        verbose_name = _("固定资产投资项目")
        verbose_name_plural = _("固定资产投资项目")

    def __str__(self) -> str:
        return str(self.project)


class GateDecision(models.TextChoices):
    APPROVED = "approved", _("审查通过")
    REJECTED = "rejected", _("不予通过")
    HELD = "held", _("闸口拦截（未通过）")


class ReviewRecord(models.Model):
    """节能审查和碳排放评价记录 — every decision and every attempt held at the gate, kept for good."""

    investment = models.ForeignKey(
        InvestmentProject, on_delete=models.CASCADE, related_name="reviews"
    )
    decision = models.CharField(_("结论"), max_length=10, choices=GateDecision.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by_name = models.CharField(_("审查人账号"), max_length=150, blank=True)
    decided_at = models.DateTimeField(_("时间"))
    conclusion = models.TextField(_("审查结论"), blank=True)
    conditions = models.TextField(_("条件"), blank=True)
    carbon_conclusion = models.TextField(_("碳排放评价结果"), blank=True)
    document_no = models.CharField(_("文号"), max_length=64, blank=True)
    gate = models.JSONField(_("闸口检查（限批、预算）与项目影响"), default=dict)
    override = models.BooleanField(_("越过闸口（特批）"), default=False)
    override_reason = models.TextField(_("越过闸口的理由"), blank=True)
    evidence_ids = models.JSONField(_("在案材料"), default=list, blank=True)
    rules_version = models.CharField(_("规则版本"), max_length=128)
    is_synthetic = models.BooleanField(_("演示数据（合成）"), default=False)

    class Meta:
        ordering = ["-decided_at", "-id"]
        verbose_name = _("节能审查记录")
        verbose_name_plural = _("节能审查记录")

    def __str__(self) -> str:
        return f"{self.investment} {self.get_decision_display()}"


class EliminationTarget(models.Model):
    """年度淘汰落后产能目标 of a region for a sector."""

    division = models.ForeignKey(
        "regions.Division", on_delete=models.PROTECT, related_name="+", verbose_name=_("地区")
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    sector_code = models.CharField(_("行业"), max_length=32)
    capacity = models.DecimalField(_("淘汰目标（产能）"), **AMOUNT)
    unit = models.CharField(_("单位"), max_length=32)
    source_document = models.CharField(_("下达文件"), max_length=255)
    is_synthetic = models.BooleanField(_("演示数据（合成）"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["year", "division__code", "sector_code"]
        verbose_name = _("淘汰落后产能目标")
        verbose_name_plural = _("淘汰落后产能目标")
        constraints = [
            models.UniqueConstraint(
                fields=["division", "year", "sector_code"], name="elimination_target_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.division} {self.year} {self.sector_code}"


class EliminationList(models.Model):
    """淘汰落后产能企业名单 of a year (drafted, then published by name)."""

    year = models.PositiveSmallIntegerField(_("年度"), db_index=True)
    division = models.ForeignKey(
        "regions.Division", on_delete=models.PROTECT, related_name="+", verbose_name=_("发布地区")
    )
    title = models.CharField(_("名单标题"), max_length=255)
    published_at = models.DateTimeField(_("公布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_synthetic = models.BooleanField(_("演示数据（合成）"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "division__code", "id"]
        verbose_name = _("淘汰落后产能名单")
        verbose_name_plural = _("淘汰落后产能名单")

    def __str__(self) -> str:
        return self.title


class EliminationItem(models.Model):
    """One line of the list: unit, line or equipment, capacity, deadline, acceptance."""

    elimination_list = models.ForeignKey(
        EliminationList, on_delete=models.CASCADE, related_name="items"
    )
    entity = models.ForeignKey(
        "entities.Entity", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    owner_name = models.CharField(_("企业名称"), max_length=200, blank=True)
    division = models.ForeignKey(
        "regions.Division", on_delete=models.PROTECT, related_name="+", verbose_name=_("所在地区")
    )
    sector_code = models.CharField(_("行业"), max_length=32)
    line_equipment = models.CharField(_("淘汰生产线（设备）"), max_length=255)
    capacity = models.DecimalField(_("产能"), **AMOUNT)
    unit = models.CharField(_("单位"), max_length=32)
    deadline = models.DateField(_("淘汰期限"))
    accepted_on = models.DateField(_("验收日期"), null=True, blank=True)
    acceptance_note = models.CharField(_("验收情况"), max_length=255, blank=True)
    is_synthetic = models.BooleanField(_("演示数据（合成）"), default=False)

    class Meta:
        ordering = ["elimination_list", "division__code", "sector_code", "id"]
        verbose_name = _("淘汰落后产能项目")
        verbose_name_plural = _("淘汰落后产能项目")

    def __str__(self) -> str:
        return f"{self.owner_label} {self.line_equipment}"

    @property
    def owner_label(self) -> str:
        return self.entity.name if self.entity_id and self.entity else self.owner_name


class SectorSuspension(models.Model):
    """暂停核准 — a region's sector suspended for missing its elimination target (recorded here: the
    assessment app has no service for a consequence outside an assessment record)."""

    division = models.ForeignKey(
        "regions.Division", on_delete=models.PROTECT, related_name="+", verbose_name=_("地区")
    )
    sector_code = models.CharField(_("行业"), max_length=32)
    year = models.PositiveSmallIntegerField(_("淘汰目标年度"))
    title_zh = models.CharField(_("措施"), max_length=255)
    reason = models.TextField(_("原因"))
    source = models.TextField(_("依据"))
    issued_on = models.DateField(_("下达日期"))
    lifted_on = models.DateField(_("解除日期"), null=True, blank=True)
    is_synthetic = models.BooleanField(_("演示数据（合成）"), default=False)

    class Meta:
        ordering = ["-year", "division__code", "sector_code"]
        verbose_name = _("暂停核准")
        verbose_name_plural = _("暂停核准")
        constraints = [
            models.UniqueConstraint(
                fields=["division", "sector_code", "year"], name="sector_suspension_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.division} {self.sector_code} {self.year}"
