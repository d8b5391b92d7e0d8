"""Tables of the rights app.  Holdings themselves live in the one ledger
(:mod:`dualcontrol.carbonmarket.models` Account / LedgerTransaction / LedgerEntry / Obligation);
these tables hold who owns an account and the business records behind each ledger transaction.

* :class:`Holder` — the owner of a rights account: a unit, an organisation, a person (no platform
  login needed), or a region's government account.
* 用能权: :class:`EnergyBudget` (a region's energy budget), :class:`EnergyRight` (initial or paid rights
  of a unit), :class:`ProjectCover` (a new project's energy covered by rights bought or replaced).
* 排污权: :class:`Permit` (排污许可: permitted t/a), :class:`EmissionRight` (allocation from a permit).
* 绿证: :class:`CertificateCancellation` (cancelled by a consumer, evidence for its accounted energy).
* 碳汇/碳普惠: :class:`CreditProject` (a project under a methodology, issuance after verification),
  :class:`Behaviour` (recorded low-carbon behaviour → points), :class:`Redemption`.
* 市场: :class:`Listing` (an offer or bid on the bulletin board), :class:`Trade` (seller requests, buyer
  accepts, the province approves → a ledger transfer).
* :class:`RightsObligation` — why an obligation in EUR / EMR-* has its amount (source figures).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dualcontrol.carbonmarket.models import Account, LedgerTransaction, Obligation
from dualcontrol.entities.models import Entity
from dualcontrol.regions.models import Division

AMOUNT = {"max_digits": 20, "decimal_places": 4}
MONEY = {"max_digits": 18, "decimal_places": 2}


class HolderKind(models.TextChoices):
    UNIT = "unit", _("用能/排污单位")
    ORGANISATION = "organisation", _("机构（碳普惠）")
    PERSON = "person", _("个人（碳普惠）")
    GOVERNMENT = "government", _("地区政府账户")


class Holder(models.Model):
    """The owner of a rights account (one account per holder, all rights unit types)."""

    account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="rights_holder")
    kind = models.CharField(_("持有人类型"), max_length=14, choices=HolderKind.choices)
    name = models.CharField(_("名称"), max_length=128)
    entity = models.ForeignKey(
        Entity, null=True, blank=True, on_delete=models.PROTECT, related_name="rights_holders"
    )
    division = models.ForeignKey(
        Division, verbose_name=_("所在地区"), on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        Division, verbose_name=_("交易地区（地级）"), on_delete=models.PROTECT, related_name="+"
    )
    person_ref = models.CharField(_("个人编号"), max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["kind", "name"]
        verbose_name = _("权益账户持有人")
        verbose_name_plural = _("权益账户持有人")

    def __str__(self) -> str:
        return f"{self.name}（{self.account.code}）"


class EnergyBudget(models.Model):
    """用能预算: a region's energy budget for a year (tce)."""

    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    budget_tce = models.DecimalField(_("用能预算（tce）"), **AMOUNT)
    basis = models.CharField(_("依据"), max_length=300)
    recorded_by = models.CharField(max_length=150, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-year", "division__code"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["division", "year"], name="rights_budget_once")
        ]


class RightKind(models.TextChoices):
    EXISTING = "existing", _("既有用能（无偿）")
    INCREMENT = "increment", _("新增用能（有偿）")


class EnergyRight(models.Model):
    """用能权确权: rights issued to a unit for a year, free (existing use) or paid (increment)."""

    holder = models.ForeignKey(Holder, on_delete=models.PROTECT, related_name="energy_rights")
    year = models.PositiveSmallIntegerField(_("年度"))
    kind = models.CharField(_("类型"), max_length=10, choices=RightKind.choices)
    amount_tce = models.DecimalField(_("数量（tce）"), **AMOUNT)
    price_yuan_per_tce = models.DecimalField(_("单价（元/tce）"), null=True, blank=True, **MONEY)
    fee_yuan = models.DecimalField(_("有偿使用费（元）"), null=True, blank=True, **MONEY)
    basis = models.CharField(_("依据"), max_length=300)
    rule_version = models.CharField(max_length=64)
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-year", "holder__name", "pk"]


class CoverMethod(models.TextChoices):
    PURCHASE = "purchase", _("有偿购买（新增指标）")
    TRADE = "trade", _("交易购入")
    REPLACEMENT = "replacement", _("等量替代（自有指标）")


class ProjectCover(models.Model):
    """A new project's energy covered by rights (节能审查 link).  The platform has no energy-review
    project model: ``project_ref`` is the review's reference; ``project`` links a registered
    project when there is one."""

    holder = models.ForeignKey(Holder, on_delete=models.PROTECT, related_name="project_covers")
    project_ref = models.CharField(_("节能审查意见文号/项目编号"), max_length=100)
    project_name = models.CharField(_("项目名称"), max_length=200)
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    energy_tce = models.DecimalField(_("项目新增用能（tce）"), **AMOUNT)
    method = models.CharField(_("方式"), max_length=12, choices=CoverMethod.choices)
    right = models.ForeignKey(
        EnergyRight, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    trade = models.ForeignKey(
        "Trade", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.CharField(max_length=150, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-year", "holder__name", "pk"]


class Pollutant(models.TextChoices):
    COD = "EMR-COD", _("化学需氧量")
    NH3N = "EMR-NH3N", _("氨氮")
    SO2 = "EMR-SO2", _("二氧化硫")
    NOX = "EMR-NOX", _("氮氧化物")


class Permit(models.Model):
    """排污许可 (the permitted quantity confirms the emission right, 国办发〔2014〕38号)."""

    entity = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="+")
    permit_number = models.CharField(_("排污许可证编号"), max_length=40)
    unit_type = models.CharField(_("污染物"), max_length=16, choices=Pollutant.choices)
    permitted_t_per_year = models.DecimalField(_("许可排放量（t/a）"), **AMOUNT)
    valid_from = models.DateField(_("有效期起"))
    valid_to = models.DateField(_("有效期止"))
    recorded_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering: ClassVar = ["entity__name", "unit_type", "valid_from"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["entity", "unit_type", "valid_from"], name="rights_permit_once"
            )
        ]


class EmissionRight(models.Model):
    """排污权 allocated from a permit for a year, with its fee (有偿使用)."""

    holder = models.ForeignKey(Holder, on_delete=models.PROTECT, related_name="emission_rights")
    permit = models.ForeignKey(Permit, on_delete=models.PROTECT, related_name="allocations")
    year = models.PositiveSmallIntegerField(_("年度"))
    unit_type = models.CharField(max_length=16, choices=Pollutant.choices)
    amount_t = models.DecimalField(_("数量（t）"), **AMOUNT)
    fee_yuan = models.DecimalField(_("使用费（元）"), null=True, blank=True, **MONEY)
    rule_version = models.CharField(max_length=64)
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering: ClassVar = ["-year", "holder__name", "unit_type"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["permit", "year"], name="rights_emr_once")
        ]


class RightsObligation(models.Model):
    """The figures behind an EUR or EMR-* obligation of the ledger."""

    obligation = models.OneToOneField(Obligation, on_delete=models.PROTECT, related_name="+")
    holder = models.ForeignKey(Holder, on_delete=models.PROTECT, related_name="obligations")
    source = models.CharField(_("数据来源"), max_length=200)
    figures = models.JSONField(default=dict)
    rule_version = models.CharField(max_length=64)


class CertificateCancellation(models.Model):
    """绿证注销 by a consumer for its electricity use of ``year``."""

    holder = models.ForeignKey(Holder, on_delete=models.PROTECT, related_name="cancellations")
    year = models.PositiveSmallIntegerField(_("用电年度"))
    vintage = models.PositiveSmallIntegerField(_("绿证年度"))
    amount_mwh = models.DecimalField(_("数量（MWh）"), **AMOUNT)
    purpose = models.CharField(_("用途"), max_length=200)
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-year", "holder__name", "pk"]


class ProjectStatus(models.TextChoices):
    REGISTERED = "registered", _("已登记")
    ISSUED = "issued", _("已核证签发")


class CreditProject(models.Model):
    """A carbon-sink project under a methodology; issued after verification."""

    holder = models.ForeignKey(Holder, on_delete=models.PROTECT, related_name="credit_projects")
    methodology = models.CharField(_("方法学"), max_length=32)
    name = models.CharField(_("项目名称"), max_length=200)
    status = models.CharField(
        max_length=12, choices=ProjectStatus.choices, default=ProjectStatus.REGISTERED
    )
    vintage = models.PositiveSmallIntegerField(_("减排量年度"), null=True, blank=True)
    verified_t = models.DecimalField(_("核证量（tCO2e）"), null=True, blank=True, **AMOUNT)
    verifier = models.CharField(_("核证机构"), max_length=200, blank=True)
    transaction = models.ForeignKey(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "pk"]


class Behaviour(models.Model):
    """A recorded low-carbon behaviour and the points it earned (碳普惠)."""

    holder = models.ForeignKey(Holder, on_delete=models.PROTECT, related_name="behaviours")
    code = models.CharField(_("行为"), max_length=32)
    quantity = models.DecimalField(_("数量"), **AMOUNT)
    day = models.DateField(_("日期"))
    points = models.PositiveIntegerField(_("积分"))
    rule_version = models.CharField(max_length=64)
    transaction = models.ForeignKey(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["-day", "pk"]


class Redemption(models.Model):
    """Points (or credits) redeemed: a cancellation on the ledger."""

    holder = models.ForeignKey(Holder, on_delete=models.PROTECT, related_name="redemptions")
    unit_type = models.CharField(max_length=16)
    amount = models.DecimalField(**AMOUNT)
    purpose = models.CharField(_("用途"), max_length=200)
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "pk"]


class Side(models.TextChoices):
    OFFER = "offer", _("出让")
    BID = "bid", _("求购")


class ListingStatus(models.TextChoices):
    OPEN = "open", _("挂牌中")
    CLOSED = "closed", _("已成交")
    WITHDRAWN = "withdrawn", _("已撤回")


class Listing(models.Model):
    """An offer or bid on the bulletin board (信息公告, not an exchange)."""

    holder = models.ForeignKey(Holder, on_delete=models.PROTECT, related_name="listings")
    side = models.CharField(_("方向"), max_length=6, choices=Side.choices)
    unit_type = models.CharField(_("品种"), max_length=16)
    vintage = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True)
    quantity = models.DecimalField(_("数量"), **AMOUNT)
    price_yuan = models.DecimalField(_("单价（元）"), **MONEY)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=ListingStatus.choices, default="open")
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]


class TradeStatus(models.TextChoices):
    REQUESTED = "requested", _("卖方已申请，待买方确认")
    ACCEPTED = "accepted", _("买方已确认，待省级复核")
    EXECUTED = "executed", _("已过户")
    REJECTED = "rejected", _("已驳回")
    FAILED = "failed", _("过户被拒")


class Trade(models.Model):
    """An agreed trade: the seller requests, the buyer accepts, a second person approves; then a
    ledger transfer."""

    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="trades")
    seller = models.ForeignKey(Holder, on_delete=models.PROTECT, related_name="sales")
    buyer = models.ForeignKey(Holder, on_delete=models.PROTECT, related_name="purchases")
    unit_type = models.CharField(_("品种"), max_length=16)
    vintage = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True)
    quantity = models.DecimalField(_("数量"), **AMOUNT)
    price_yuan = models.DecimalField(_("单价（元）"), **MONEY)
    status = models.CharField(max_length=10, choices=TradeStatus.choices, default="requested")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    executed_on = models.DateField(null=True, blank=True)
    reason = models.TextField(blank=True)
    transaction = models.ForeignKey(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["-requested_at", "-pk"]
