"""Tables of the province's part of the national carbon market.

* The **ledger** (:class:`Account`, :class:`LedgerTransaction`, :class:`LedgerEntry`): double-entry,
  append-only, hash-chained; written only by :mod:`dualcontrol.carbonmarket.ledger`, which plans
  every transaction with :mod:`dualcontrol.core.ledger`.  Rows refuse updates and deletes.
  :class:`PendingRequest` holds a request waiting for its second person (four-eyes).
* **Key emitters and MRV**: :class:`Emitter` (the list per year), :class:`EmissionReport` (annual
  report, verification and the province's review), :class:`EmissionMonth` (monthly evidence).
* **Allocation**: :class:`AllocationProposal`; **compliance**: obligations live in the ledger
  (:class:`Obligation`), consequences in :class:`ComplianceAction`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dualcontrol.entities.models import Entity
from dualcontrol.regions.models import Division


class AppendOnlyError(RuntimeError):
    """A ledger row was asked to change: ledgers correct by new transactions, never by edits."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only")


class AppendOnly(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only")


class AccountKind(models.TextChoices):
    HOLDING = "holding", _("持有账户")
    GOVERNMENT = "government", _("政府账户")
    ISSUANCE = "issuance", _("签发来源（系统）")
    SURRENDER = "surrender", _("清缴账户（系统）")
    CANCELLATION = "cancellation", _("注销账户（系统）")


class Account(models.Model):
    """An account of the ledger; owned by a unit (holding) or the province (government)."""

    code = models.CharField(_("账户代码"), max_length=40, unique=True)
    kind = models.CharField(_("账户类型"), max_length=16, choices=AccountKind.choices)
    name = models.CharField(_("账户名称"), max_length=128)
    entity = models.ForeignKey(
        Entity,
        verbose_name=_("持有单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="carbon_accounts",
    )
    division = models.ForeignKey(
        Division,
        verbose_name=_("主管地区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="carbon_accounts",
    )
    opened_at = models.DateTimeField(_("开立时间"), auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["code"]
        verbose_name = _("登记账户")
        verbose_name_plural = _("登记账户")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class TxType(models.TextChoices):
    ISSUE = "issue", _("签发")
    ALLOCATE = "allocate", _("分配")
    TRANSFER = "transfer", _("转让")
    SURRENDER = "surrender", _("清缴")
    CANCEL = "cancel", _("注销")
    CORRECT = "correct", _("更正")


class LedgerTransaction(AppendOnly):
    """An applied transaction; ``hash`` = sha256(previous hash ‖ canonical record)."""

    seq = models.PositiveIntegerField(_("序号"), unique=True)
    type = models.CharField(_("类型"), max_length=12, choices=TxType.choices)
    requested_by = models.CharField(_("申请人"), max_length=150, blank=True)
    approved_by = models.CharField(_("复核人"), max_length=150, blank=True)
    year = models.PositiveSmallIntegerField(_("履约年度"), null=True, blank=True)
    date = models.DateField(_("业务日期"), null=True, blank=True)
    corrects = models.OneToOneField(
        "self",
        verbose_name=_("更正的交易"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="correction",
    )
    note = models.TextField(_("说明"), blank=True)
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    previous_hash = models.CharField(_("前一哈希"), max_length=64)
    hash = models.CharField(_("哈希"), max_length=64, unique=True)
    rule_version = models.CharField(_("规则版本"), max_length=64, blank=True)

    class Meta:
        ordering: ClassVar = ["seq"]
        verbose_name = _("登记交易")
        verbose_name_plural = _("登记交易")

    def __str__(self) -> str:
        return f"#{self.seq} {self.get_type_display()}"


class LedgerEntry(AppendOnly):
    """One leg: ``amount`` > 0 credits the account, < 0 debits it."""

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    unit_type = models.CharField(_("品种"), max_length=16)
    vintage = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True)
    amount = models.DecimalField(_("数量"), max_digits=20, decimal_places=4)

    class Meta:
        ordering: ClassVar = ["transaction__seq", "pk"]
        indexes: ClassVar = [models.Index(fields=["account", "unit_type", "vintage"])]
        verbose_name = _("登记分录")
        verbose_name_plural = _("登记分录")


class Obligation(AppendOnly):
    """清缴义务: the verified emissions an emitter owes for a year (recorded once, from the accepted
    verification; append-only like the ledger)."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="obligations")
    year = models.PositiveSmallIntegerField(_("履约年度"))
    unit_type = models.CharField(_("品种"), max_length=16, default="CEA")
    amount = models.DecimalField(_("应清缴量"), max_digits=20, decimal_places=4)
    deadline = models.DateField(_("清缴截止日期"), null=True, blank=True)
    report = models.ForeignKey(
        "EmissionReport", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering: ClassVar = ["year", "account__code"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["account", "year", "unit_type"], name="cm_obligation_once"
            )
        ]
        verbose_name = _("清缴义务")
        verbose_name_plural = _("清缴义务")


class ChainHead(models.Model):
    """The last sequence number and hash of the ledger (one row): lets ``ledger verify`` notice a
    transaction removed from the end, and serialises writers (locked for update)."""

    seq = models.PositiveIntegerField(default=0)
    hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)


class PendingStatus(models.TextChoices):
    PENDING = "pending", _("待复核")
    APPROVED = "approved", _("已复核并执行")
    REJECTED = "rejected", _("已驳回")
    FAILED = "failed", _("执行被拒")


class PendingRequest(models.Model):
    """A ledger request waiting for a second person's approval (four-eyes)."""

    type = models.CharField(_("类型"), max_length=12, choices=TxType.choices)
    from_account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit_type = models.CharField(_("品种"), max_length=16, blank=True)
    vintage = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True)
    amount = models.DecimalField(_("数量"), max_digits=20, decimal_places=4, default=0)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    corrects = models.ForeignKey(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("说明"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=10, choices=PendingStatus.choices, default=PendingStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    transaction = models.ForeignKey(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["-requested_at"]


# ----------------------------------------------------------------------------- emitters and MRV


class Sector(models.TextChoices):
    POWER = "power", _("发电")
    STEEL = "steel", _("钢铁")
    CEMENT = "cement", _("水泥")
    ALUMINIUM = "aluminium", _("铝冶炼")


class ListingStatus(models.TextChoices):
    PROPOSED = "proposed", _("拟纳入")
    LISTED = "listed", _("已纳入名录")
    REMOVED = "removed", _("移出名录")


class Emitter(models.Model):
    """A unit on (or proposed for) the year's list of key emitters (重点排放单位名录)."""

    entity = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="emitter_years")
    year = models.PositiveSmallIntegerField(_("名录年度"))
    sector = models.CharField(_("行业"), max_length=12, choices=Sector.choices)
    basis_co2e_t = models.DecimalField(
        _("纳入依据排放量（tCO2e）"), max_digits=14, decimal_places=2
    )
    basis = models.CharField(_("依据"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=10, choices=ListingStatus.choices, default=ListingStatus.PROPOSED
    )
    rule_version = models.CharField(max_length=64)
    published_at = models.DateTimeField(_("公布时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["-year", "sector", "entity__name"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["entity", "year"], name="cm_emitter_once")
        ]
        verbose_name = _("重点排放单位")
        verbose_name_plural = _("重点排放单位")


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已报送")
    VERIFYING = "verifying", _("核查中")
    VERIFIED = "verified", _("已核查")
    ACCEPTED = "accepted", _("已确认")
    RETURNED = "returned", _("退回修改")


class EmissionReport(models.Model):
    """年度温室气体排放报告 of a key emitter, its verification and the province's review."""

    entity = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="emission_reports")
    year = models.PositiveSmallIntegerField(_("排放年度"))
    sector = models.CharField(_("行业"), max_length=12, choices=Sector.choices)
    method = models.CharField(_("核算方法"), max_length=200)
    fuel_co2_t = models.DecimalField(_("化石燃料燃烧排放（tCO2）"), max_digits=14, decimal_places=2)
    process_co2e_t = models.DecimalField(
        _("工业过程排放（tCO2e）"), max_digits=14, decimal_places=2, default=0
    )
    indirect_co2_t = models.DecimalField(
        _("购入电力、热力间接排放（tCO2，仅报告）"), max_digits=14, decimal_places=2, default=0
    )
    supply_mwh = models.DecimalField(
        _("供电量（MWh）"), max_digits=16, decimal_places=3, null=True, blank=True
    )
    heat_gj = models.DecimalField(
        _("供热量（GJ）"), max_digits=16, decimal_places=3, null=True, blank=True
    )
    output_t = models.DecimalField(
        _("主要产品产量（t）"), max_digits=16, decimal_places=3, null=True, blank=True
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    deadline = models.DateField(_("报送截止日期"))
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    verifier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核查机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="carbon_verifications",
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    verification_deadline = models.DateField(_("核查截止日期"), null=True, blank=True)
    findings = models.TextField(_("核查发现"), blank=True)
    verified_co2e_t = models.DecimalField(
        _("核查确认排放量（tCO2e）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.TextField(_("退回原因"), blank=True)

    class Meta:
        ordering: ClassVar = ["-year", "entity__name"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["entity", "year"], name="cm_report_once")
        ]
        verbose_name = _("排放报告")
        verbose_name_plural = _("排放报告")

    @property
    def direct_co2e_t(self) -> Any:
        """Direct emissions (the market's scope): fuel combustion + processes."""
        return self.fuel_co2_t + self.process_co2e_t


class EmissionMonth(models.Model):
    """月度信息化存证: one month's data of a key emitter."""

    entity = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    fuel_co2_t = models.DecimalField(max_digits=14, decimal_places=2)
    process_co2e_t = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    filed_at = models.DateTimeField()
    deadline = models.DateField()

    class Meta:
        ordering: ClassVar = ["year", "month"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["entity", "year", "month"], name="cm_month_once")
        ]


class AllocationMethod(models.TextChoices):
    POWER_BENCHMARK = "power_benchmark", _("基准法（发电）")
    EQUAL_VERIFIED = "equal_verified", _("等于经核查排放量")
    INTENSITY = "intensity", _("强度法 A = E × (1 + α)")


class AllocationStatus(models.TextChoices):
    PROPOSED = "proposed", _("拟分配")
    APPROVED = "approved", _("已核定")
    ISSUED = "issued", _("已发放")


class AllocationProposal(models.Model):
    """配额分配: the amount for one emitter and year, how it was computed, and its issuance."""

    entity = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("配额年度"))
    sector = models.CharField(_("行业"), max_length=12, choices=Sector.choices)
    method = models.CharField(_("方法"), max_length=40, choices=AllocationMethod.choices)
    inputs = models.JSONField(_("计算依据"), default=dict)
    amount_t = models.BigIntegerField(_("配额量（tCO2）"))
    rule_version = models.CharField(max_length=64)
    benchmark_status = models.CharField(max_length=10, default="final")
    status = models.CharField(
        max_length=10, choices=AllocationStatus.choices, default=AllocationStatus.PROPOSED
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    transaction = models.ForeignKey(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["-year", "entity__name"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["entity", "year"], name="cm_allocation_once")
        ]
        verbose_name = _("配额分配")
        verbose_name_plural = _("配额分配")


class ActionKind(models.TextChoices):
    NOTICE = "notice", _("责令限期清缴")
    FINE = "fine", _("罚款")
    DEDUCTION = "deduction", _("等量核减下一年度配额")
    REFUSED = "refused", _("拒绝的清缴申请")


class ComplianceAction(models.Model):
    """A consequence or notable event of an emitter's compliance for a year."""

    entity = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=12, choices=ActionKind.choices)
    amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    text = models.TextField()
    basis = models.CharField(max_length=200, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-year", "-decided_at"]
