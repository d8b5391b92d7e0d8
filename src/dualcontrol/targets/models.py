"""Targets, their decomposition, responsibility letters, regional statistics and the barometer.

- :class:`Target` — one indicator's target for a region (or a sector of it, or a key unit) over
  a period (five-year, year, quarter), with its base and incentive value, unit and source
  document; ``parent`` links a decomposed target to the one it came from (province → city →
  county / unit).
- :class:`Decomposition` — an adopted allocation (method, parameters, the consistency check).
- :class:`ResponsibilityLetter` — 目标责任书: generated from the targets, then recorded as signed.
- :class:`RegionalStatistic` — the statistics bureau's regional energy and GDP (never sums of
  key units).
- :class:`WarningRuleSet` — barometer rule sets as data (seeded from ``reference/data``,
  new ones editable in the admin); :class:`WarningRecord` — one rated observation with the rule
  set and the figures that produced it; :class:`Alert` — its notice to an officer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from dualcontrol.core.progress import PaceDefinition, ProgressDefinition
from dualcontrol.entities.models import Entity, Industry
from dualcontrol.regions.models import Division


def cumulative_period_label(
    year: int, month: int | None = None, *, quarter: int | None = None
) -> str:
    """January to ``month`` (or the first ``quarter`` quarters) of ``year``, or the whole year."""
    if month:
        return gettext("%(y)s年1–%(m)s月") % {"y": year, "m": month}
    if quarter:
        return gettext("%(y)s年1–%(q)s季度") % {"y": year, "q": quarter}
    return gettext("%(y)s年") % {"y": year}


def _default_language() -> bool:
    """Whether the active language is the platform's (the stored texts are written in it)."""
    active = (get_language() or settings.LANGUAGE_CODE).lower()
    return active.split("-")[0] == settings.LANGUAGE_CODE.lower().split("-")[0]


_LEVEL_NAMES_EN: dict[tuple[int, str], dict[str, str]] = {}


def _level_names_en(rule_set_id: int, version: str) -> dict[str, str]:
    """level id → ``name_en`` of a rule set as of ``version`` (a version is a digest of the
    definition, so what was found is kept; empty when the rule set has changed since)."""
    key = (rule_set_id, version)
    if key not in _LEVEL_NAMES_EN:
        row = (
            WarningRuleSet.objects.filter(pk=rule_set_id, version=version)
            .values_list("definition", flat=True)
            .first()
        )
        levels = row.get("levels", []) if isinstance(row, dict) else []
        names = {
            str(lv.get("id")): str(lv.get("name_en"))
            for lv in levels
            if isinstance(lv, dict) and lv.get("name_en")
        }
        if not names:
            return {}
        _LEVEL_NAMES_EN[key] = names
    return _LEVEL_NAMES_EN[key]


def _translated(text: str) -> str:
    """A stored text (written in the platform's language) through the catalogue."""
    return gettext(text) if text else ""


class Indicator(models.TextChoices):
    """Codes of the catalogue indicators that code refers to by name (assessment sources, demo).

    The list of indicators, their names, units, kinds and rules is the catalogue
    (``reference/data/indicators.yaml``, :func:`catalogue`); the target's field takes its choices
    from there, so an indicator added to the catalogue needs no code change here."""

    ENERGY_INTENSITY_REDUCTION = "energy_intensity_reduction", _("单位地区生产总值能耗降低")
    ENERGY_INTENSITY_LEVEL = "energy_intensity_level", _("单位地区生产总值能耗")
    ENERGY_TOTAL = "energy_total", _("能源消费总量")
    ENERGY_INCREMENT = "energy_increment", _("能源消费增量")
    ENERGY_BUDGET = "energy_budget", _("期间能源消费总量控制（累计）")
    CO2_INTENSITY_REDUCTION = "co2_intensity_reduction", _("单位地区生产总值二氧化碳排放降低")
    CO2_TOTAL = "co2_total", _("二氧化碳排放总量")
    CARBON_BUDGET = "carbon_budget", _("碳排放预算（期间累计）")
    CO2_PEAK_YEAR = "co2_peak_year", _("碳排放达峰年份")
    NON_FOSSIL_SHARE = "non_fossil_share", _("非化石能源消费比重")
    COAL_SHARE = "coal_share", _("煤炭消费比重")
    COAL_TOTAL = "coal_total", _("煤炭消费总量")
    ELECTRICITY_TOTAL = "electricity_total", _("全社会用电量")
    COD_TOTAL = "cod_total", _("化学需氧量排放总量")
    NH3N_TOTAL = "nh3n_total", _("氨氮排放总量")
    SO2_TOTAL = "so2_total", _("二氧化硫排放总量")
    NOX_TOTAL = "nox_total", _("氮氧化物排放总量")
    POLLUTANT_PROJECT_REDUCTION = "pollutant_project_reduction", _("重点工程污染物减排量")
    ENERGY_SAVING = "energy_saving", _("节能量")


def catalogue() -> Any:
    """The indicator catalogue in force (:class:`dualcontrol.core.catalogue.Catalogue`)."""
    from dualcontrol.reference.catalogue import catalogue as load

    return load()


def indicator_choices() -> list[tuple[str, str]]:
    """(code, name) of every catalogue indicator, names in the active language."""
    return [(i.code, gettext(i.name_zh)) for i in catalogue().indicators.values()]


def indicator_def(code: str) -> Any:
    """The catalogue entry of ``code`` (:class:`dualcontrol.core.catalogue.IndicatorDef`)."""
    return catalogue().indicator(code)


class PeriodKind(models.TextChoices):
    FIVE_YEAR = "five_year", _("五年")
    YEAR = "year", _("年度")
    QUARTER = "quarter", _("季度")


class TargetStatus(models.TextChoices):
    DRAFT = "draft", _("草拟")
    ISSUED = "issued", _("已下达")
    SIGNED = "signed", _("已签订责任书")


PACE_CHOICES = [
    (PaceDefinition.COMPOUND.value, _("复合序时进度（1−(1−R)^(k/n)）")),
    (PaceDefinition.LINEAR.value, _("线性序时进度（R×k/n）")),
    ("linear_path", _("直线路径（基期值→目标值，按 k/n）")),
    ("time", _("时间进度（目标×k/n）")),
    ("peak", _("达峰年后不超过峰值")),
]
PROGRESS_CHOICES = [
    (ProgressDefinition.LOG.value, _("对数口径 ln(1−实际)/ln(1−目标)")),
    (ProgressDefinition.LINEAR.value, _("线性口径 实际/目标")),
    ("path", _("路径口径 (实际−基期)/(目标−基期)")),
    ("used", _("使用口径 已用/上限")),
    ("delivered", _("完成口径 累计/目标")),
    ("peak", _("达峰口径")),
]


class CompareWith(models.TextChoices):
    PACE = "pace", _("序时进度（五年目标按时间进度）")
    ANNUAL = "annual", _("年度目标")


class WarningRuleSet(models.Model):
    """A barometer rule set (晴雨表规则) as data: the mapping of ``reference/data/warning_*.yaml``."""

    name = models.CharField(_("名称"), max_length=64, unique=True)
    title_zh = models.CharField(_("标题"), max_length=255)
    source = models.TextField(_("来源"))
    definition = models.JSONField(_("规则定义"))
    version = models.CharField(_("版本"), max_length=128)
    compares_with = models.CharField(
        _("比较对象"), max_length=16, choices=CompareWith.choices, default=CompareWith.PACE
    )
    is_builtin = models.BooleanField(_("内置（来自参考数据）"), default=False)
    is_default = models.BooleanField(_("默认规则"), default=False)
    active = models.BooleanField(_("启用"), default=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "name"]
        verbose_name = _("预警规则集")
        verbose_name_plural = _("预警规则集")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_rule_set"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.title_zh}"

    def to_core(self) -> Any:
        """The validated :class:`dualcontrol.core.warning.RuleSet`."""
        from dualcontrol.reference.warning_rules import rule_set_from_mapping

        return rule_set_from_mapping(self.definition, version=self.version, where=self.name)

    def clean(self) -> None:
        from dualcontrol.reference import ReferenceDataError

        if not isinstance(self.definition, dict):
            raise ValidationError({"definition": _("规则定义必须是映射（YAML/JSON 对象）")})
        if self.definition.get("name") not in (None, self.name):
            raise ValidationError({"definition": _("规则定义中的 name 必须与名称一致")})
        self.definition = {**self.definition, "name": self.name}
        try:
            self.to_core()
        except ReferenceDataError as exc:
            raise ValidationError({"definition": str(exc)}) from exc


class Target(models.Model):
    """目标: one indicator for one region (sector) or key unit over one period."""

    indicator = models.CharField(_("指标"), max_length=32, choices=indicator_choices)
    division = models.ForeignKey(
        Division,
        verbose_name=_("地区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="targets",
    )
    industry = models.ForeignKey(
        Industry,
        verbose_name=_("行业（分行业目标）"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    entity = models.ForeignKey(
        Entity,
        verbose_name=_("重点用能单位"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="targets",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级目标"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    period_kind = models.CharField(_("周期"), max_length=16, choices=PeriodKind.choices)
    base_year = models.PositiveSmallIntegerField(_("基期年"))
    end_year = models.PositiveSmallIntegerField(_("目标年"))
    quarter = models.PositiveSmallIntegerField(_("季度"), null=True, blank=True)
    base_value = models.DecimalField(_("基本目标"), max_digits=20, decimal_places=4)
    incentive_value = models.DecimalField(
        _("激励目标"), max_digits=20, decimal_places=4, null=True, blank=True
    )
    unit = models.CharField(_("单位"), max_length=32)
    base_level = models.DecimalField(
        _("基期值"), max_digits=20, decimal_places=4, null=True, blank=True
    )
    source_document = models.CharField(_("来源文件"), max_length=500)
    note = models.TextField(_("说明"), blank=True)
    pace_definition = models.CharField(
        _("序时进度口径（空 = 指标默认，与完成进度口径一致）"),
        max_length=16,
        choices=PACE_CHOICES,
        blank=True,
        default="",
    )
    progress_definition = models.CharField(
        _("完成进度口径（空 = 指标默认）"),
        max_length=16,
        choices=PROGRESS_CHOICES,
        blank=True,
        default="",
    )
    rule_set = models.ForeignKey(
        WarningRuleSet,
        verbose_name=_("预警规则集（空 = 默认）"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="targets",
    )
    barometer = models.BooleanField(_("纳入晴雨表预警"), default=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=TargetStatus.choices, default=TargetStatus.ISSUED
    )
    decomposition = models.ForeignKey(
        "Decomposition",
        verbose_name=_("分解方案"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="targets",
    )
    is_synthetic = models.BooleanField(_("演示数据（示意）"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-end_year", "division__code", "indicator", "id"]
        verbose_name = _("目标")
        verbose_name_plural = _("目标")
        constraints = [
            models.CheckConstraint(
                condition=Q(division__isnull=False, entity__isnull=True)
                | Q(division__isnull=True, entity__isnull=False),
                name="target_region_xor_unit",
            ),
            models.CheckConstraint(
                condition=Q(end_year__gt=models.F("base_year")), name="target_end_after_base"
            ),
        ]
        indexes = [models.Index(fields=["indicator", "base_year", "end_year"])]

    def __str__(self) -> str:
        return f"{self.holder_name} {self.get_indicator_display()} {self.period_label}"

    @property
    def holder_name(self) -> str:
        if self.entity_id:
            return self.entity.name
        name = self.division.name if self.division_id else ""
        return f"{name}·{self.industry.name}" if self.industry_id else name

    @property
    def holder_division(self) -> Division:
        return self.division if self.division_id else self.entity.division

    @property
    def period_label(self) -> str:
        if self.period_kind == PeriodKind.FIVE_YEAR:
            return f"{self.base_year + 1}–{self.end_year}"
        if self.period_kind == PeriodKind.QUARTER:
            return f"{self.end_year}Q{self.quarter}"
        return f"{self.end_year}"

    @property
    def definition(self) -> Any:
        """The catalogue entry of the target's indicator."""
        return indicator_def(self.indicator)

    @property
    def is_percent(self) -> bool:
        return bool(self.definition.is_percent)

    @property
    def barometer_indicator(self) -> str | None:
        """The indicator as the barometer stores it (every catalogue indicator has one)."""
        return str(self.definition.barometer_id)

    @property
    def pace(self) -> str:
        """The pace definition in force: the target's own, else the one consistent with its
        progress definition, else the catalogue's default."""
        if self.pace_definition:
            return self.pace_definition
        ind = self.definition
        from dualcontrol.core.catalogue import CONSISTENT_PACE

        consistent = CONSISTENT_PACE.get(self.progress)
        return consistent if consistent in ind.pace_definitions else str(ind.pace_default)

    @property
    def progress(self) -> str:
        """The progress definition in force: the target's own, else the catalogue's default."""
        return self.progress_definition or str(self.definition.progress_default)

    @property
    def pace_label(self) -> str:
        """The pace in force, named; "(default)" when the target does not set its own."""
        label = str(dict(PACE_CHOICES).get(self.pace, self.pace))
        return label if self.pace_definition else gettext("%(l)s（默认）") % {"l": label}

    @property
    def progress_label(self) -> str:
        label = str(dict(PROGRESS_CHOICES).get(self.progress, self.progress))
        return label if self.progress_definition else gettext("%(l)s（默认）") % {"l": label}

    @property
    def target_frac(self) -> float:
        return float(self.base_value) / 100

    @property
    def target_core(self) -> float:
        """The target in core units (0.032 for 3.2 %; tce, tCO2, t or a year otherwise)."""
        from dualcontrol.core.tracking import target_value

        return target_value(self.definition, float(self.base_value))

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if (self.division_id is None) == (self.entity_id is None):
            errors["division"] = _("目标须属于一个地区或一个重点用能单位（二选一）")
        if self.base_year and self.end_year and self.end_year <= self.base_year:
            errors["end_year"] = _("目标年须晚于基期年")
        if (
            self.period_kind == PeriodKind.FIVE_YEAR
            and self.base_year
            and self.end_year
            and self.end_year - self.base_year != 5
        ):
            errors["end_year"] = _("五年目标的目标年应为基期年 + 5")
        if self.period_kind == PeriodKind.QUARTER:
            if self.quarter not in (1, 2, 3, 4):
                errors["quarter"] = _("季度目标须注明第 1–4 季度")
        elif self.quarter is not None:
            errors["quarter"] = _("只有季度目标填写季度")
        ind = None
        try:
            ind = indicator_def(self.indicator)
        except ValueError:
            errors["indicator"] = _("指标目录中没有该指标")
        percent = ind is not None and ind.is_percent
        if self.base_value is not None and percent and not Decimal(0) < self.base_value < 100:
            errors["base_value"] = _("百分比目标须在 0 与 100 之间")
        if self.incentive_value is not None and percent and not 0 < self.incentive_value < 100:
            errors["incentive_value"] = _("百分比目标须在 0 与 100 之间")
        if ind is not None:
            holder = "unit" if self.entity_id else ("sector" if self.industry_id else "region")
            if holder not in ind.holders:
                errors["indicator"] = _("该指标不能设定给此类责任主体（%(h)s）") % {"h": holder}
            if self.pace_definition and self.pace_definition not in ind.pace_definitions:
                errors["pace_definition"] = _("该指标的序时进度口径只能是：%(v)s") % {
                    "v": "、".join(ind.pace_definitions)
                }
            if self.progress_definition and (
                self.progress_definition not in ind.progress_definitions
            ):
                errors["progress_definition"] = _("该指标的完成进度口径只能是：%(v)s") % {
                    "v": "、".join(ind.progress_definitions)
                }
            if (
                ind.kind == "peak_year"
                and self.base_value is not None
                and (self.base_value != int(self.base_value) or not 2000 <= self.base_value <= 2100)
            ):
                errors["base_value"] = _("达峰年份应为 2000–2100 之间的整数年份")
        if self.base_value is not None and self.base_value < 0:
            errors["base_value"] = _("目标值不能为负")
        if errors:
            raise ValidationError(errors)


class DecompositionMethod(models.TextChoices):
    TIERED = "tiered", _("分档法")
    WEIGHTED = "weighted", _("因素加权法")
    EFFICIENCY = "efficiency", _("效率优先法（线性规划）")
    MANUAL = "manual", _("手工分解")
    PROPORTIONAL = "proportional", _("按基期量比例")
    UNIFORM = "uniform", _("统一目标值")


class Decomposition(models.Model):
    """目标分解方案 (adopted): method, parameters, regional results and the consistency check."""

    parent_target = models.ForeignKey(
        Target,
        verbose_name=_("被分解目标"),
        on_delete=models.CASCADE,
        related_name="decompositions",
    )
    method = models.CharField(_("方法"), max_length=16, choices=DecompositionMethod.choices)
    params = models.JSONField(_("参数"), default=dict)
    result = models.JSONField(_("分解结果"), default=dict)
    scheme_name = models.CharField(_("方案预设"), max_length=64, blank=True)
    scheme_version = models.CharField(_("预设版本"), max_length=128, blank=True)
    intensity_slack_pp = models.FloatField(_("强度一致性余量（百分点）"), null=True, blank=True)
    intensity_slack_tce = models.FloatField(_("强度一致性余量（吨标准煤）"), null=True, blank=True)
    consistency_check = models.JSONField(
        _("总量一致性检查（非强度指标）"), default=dict, blank=True
    )
    total_slack_tce = models.FloatField(_("总量一致性余量（吨标准煤）"), null=True, blank=True)
    is_current = models.BooleanField(_("现行方案"), default=True)
    is_synthetic = models.BooleanField(_("演示数据（示意）"), default=False)
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    adopted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-adopted_at", "-id"]
        verbose_name = _("分解方案")
        verbose_name_plural = _("分解方案")

    def __str__(self) -> str:
        return f"{self.parent_target} · {self.get_method_display()}"


class LetterStatus(models.TextChoices):
    GENERATED = "generated", _("已生成，待签订")
    SIGNED = "signed", _("已签订")


class ResponsibilityLetter(models.Model):
    """目标责任书: the targets of one region (or unit) for one period, as a document."""

    number = models.CharField(_("编号"), max_length=64, unique=True)
    title = models.CharField(_("标题"), max_length=255)
    division = models.ForeignKey(
        Division,
        verbose_name=_("责任地区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    entity = models.ForeignKey(
        Entity,
        verbose_name=_("责任单位"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    issuer = models.ForeignKey(
        Division, verbose_name=_("下达方"), on_delete=models.PROTECT, related_name="+"
    )
    base_year = models.PositiveSmallIntegerField(_("基期年"))
    end_year = models.PositiveSmallIntegerField(_("目标年"))
    targets = models.ManyToManyField(Target, verbose_name=_("目标"), related_name="letters")
    content = models.JSONField(_("文书内容快照"), default=dict)
    content_sha256 = models.CharField(_("内容摘要（SHA-256）"), max_length=64)
    status = models.CharField(
        _("状态"), max_length=16, choices=LetterStatus.choices, default=LetterStatus.GENERATED
    )
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    generated_at = models.DateTimeField(auto_now_add=True)
    signed_on = models.DateField(_("签订日期"), null=True, blank=True)
    issuer_signatory = models.CharField(_("下达方签字人"), max_length=64, blank=True)
    party_signatory = models.CharField(_("责任方签字人"), max_length=64, blank=True)
    signed_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_recorded_at = models.DateTimeField(null=True, blank=True)
    is_synthetic = models.BooleanField(_("演示数据（示意）"), default=False)

    class Meta:
        ordering = ["-generated_at", "-id"]
        verbose_name = _("目标责任书")
        verbose_name_plural = _("目标责任书")

    def __str__(self) -> str:
        return self.number

    @property
    def title_label(self) -> str:
        """The title in the active language (the stored one is in the platform's language)."""
        content = self.content or {}
        period = content.get("period") or []
        if _default_language() or not content.get("party") or len(period) != 2:
            return self.title
        with translation.override(settings.LANGUAGE_CODE):
            generated = letter_title(content["party"], period[0], period[1])
        if generated != self.title:  # not the generated title: shown as written
            return self.title
        return letter_title(content["party"], period[0], period[1])


def letter_title(party: str, base_year: int, end_year: int) -> str:
    """目标责任书 title of ``party`` for the plan period after ``base_year``, active language."""
    return gettext("%(party)s“%(first)s–%(end)s”节能减排目标责任书") % {
        "party": party,
        "first": base_year + 1,
        "end": end_year,
    }


class RegionalStatistic(models.Model):
    """统计部门的地区能源消费与 GDP (annual, or January to a month / quarter, cumulative)."""

    division = models.ForeignKey(
        Division, verbose_name=_("地区"), on_delete=models.PROTECT, related_name="statistics"
    )
    industry = models.ForeignKey(
        Industry,
        verbose_name=_("行业（分行业统计；空 = 全地区）"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    year = models.PositiveSmallIntegerField(_("年份"))
    month = models.PositiveSmallIntegerField(_("月份（1–M月累计）"), null=True, blank=True)
    quarter = models.PositiveSmallIntegerField(_("季度（1–q季度累计）"), null=True, blank=True)
    energy_tce = models.DecimalField(_("能源消费量（吨标准煤）"), max_digits=20, decimal_places=2)
    gdp_10k_yuan = models.DecimalField(
        _("地区生产总值（万元，当年价）"), max_digits=20, decimal_places=2
    )
    gdp_real_growth_pct = models.DecimalField(
        _("GDP 实际增长（%，可比价同比）"), max_digits=8, decimal_places=3, null=True, blank=True
    )
    factors = models.JSONField(
        _("其他统计列（CO2、非化石能源、煤炭、污染物、扣减项、分解因素……）"),
        default=dict,
        blank=True,
    )
    derived = models.JSONField(
        _("计算列的来源（如由分品种能源计算的 CO2 及其因子版本）"), default=dict, blank=True
    )
    source = models.CharField(_("来源"), max_length=255)
    is_synthetic = models.BooleanField(_("演示数据（合成）"), default=False)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["division__code", "year", "month", "quarter"]
        verbose_name = _("地区统计数据")
        verbose_name_plural = _("地区统计数据")
        constraints = [
            models.UniqueConstraint(
                fields=["division", "year"],
                condition=Q(month__isnull=True, quarter__isnull=True, industry__isnull=True),
                name="statistic_unique_year",
            ),
            models.UniqueConstraint(
                fields=["division", "year", "month"],
                condition=Q(month__isnull=False, industry__isnull=True),
                name="statistic_unique_month",
            ),
            models.UniqueConstraint(
                fields=["division", "year", "quarter"],
                condition=Q(quarter__isnull=False, industry__isnull=True),
                name="statistic_unique_quarter",
            ),
            models.UniqueConstraint(
                fields=["division", "industry", "year"],
                condition=Q(month__isnull=True, quarter__isnull=True, industry__isnull=False),
                name="statistic_unique_sector_year",
            ),
            models.UniqueConstraint(
                fields=["division", "industry", "year", "month"],
                condition=Q(month__isnull=False, industry__isnull=False),
                name="statistic_unique_sector_month",
            ),
            models.UniqueConstraint(
                fields=["division", "industry", "year", "quarter"],
                condition=Q(quarter__isnull=False, industry__isnull=False),
                name="statistic_unique_sector_quarter",
            ),
            models.CheckConstraint(
                condition=Q(month__isnull=True) | Q(quarter__isnull=True),
                name="statistic_month_or_quarter",
            ),
        ]

    def __str__(self) -> str:
        sector = f"·{self.industry.name}" if self.industry_id else ""
        return f"{self.division.name}{sector} {self.period_label}"

    @property
    def period_label(self) -> str:
        return cumulative_period_label(self.year, self.month, quarter=self.quarter)

    def value(self, column: str) -> float | None:
        """A statistics column of this row (a field or one of the other columns)."""
        if column in ("energy_tce", "gdp_10k_yuan", "gdp_real_growth_pct"):
            v = getattr(self, column)
            return None if v is None else float(v)
        v = (self.factors or {}).get(column)
        return None if v is None else float(v)


class WarningRecord(models.Model):
    """预警记录: one region's level for one indicator at one month, with its rule set and figures."""

    target = models.ForeignKey(
        Target, verbose_name=_("目标"), on_delete=models.CASCADE, related_name="warnings"
    )
    division = models.ForeignKey(
        Division, verbose_name=_("地区"), on_delete=models.PROTECT, related_name="+"
    )
    indicator = models.CharField(_("预警指标"), max_length=32)
    year = models.PositiveSmallIntegerField(_("年份"))
    month = models.PositiveSmallIntegerField(_("月份（1–M月累计）"))
    stage = models.CharField(_("阶段"), max_length=32, blank=True)
    rule_set = models.ForeignKey(
        WarningRuleSet, verbose_name=_("规则集"), on_delete=models.PROTECT, related_name="+"
    )
    rule_set_name = models.CharField(_("规则集名称"), max_length=64)
    rule_set_version = models.CharField(_("规则集版本"), max_length=128)
    level_id = models.CharField(_("等级代码"), max_length=32)
    level_number = models.CharField(_("等级编号"), max_length=16, blank=True)
    level_name = models.CharField(_("预警等级"), max_length=64)
    colour = models.CharField(_("颜色"), max_length=16)
    severity = models.PositiveSmallIntegerField(_("严重度"))
    is_warning = models.BooleanField(_("预警"))
    unit = models.CharField(_("单位"), max_length=8)  # frac | tce
    required = models.FloatField(_("要求值"))
    achieved = models.FloatField(_("实际值"))
    gap = models.FloatField(_("差距"))
    gap_frac_of_required = models.FloatField(_("差距占目标值比例"), null=True, blank=True)
    measure = models.CharField(_("度量"), max_length=32)
    measure_value = models.FloatField(_("度量值"))
    band = models.CharField(_("命中区间"), max_length=128)
    required_means = models.CharField(_("要求值含义"), max_length=128)
    figures = models.JSONField(_("计算依据"), default=dict)
    consequences = models.JSONField(_("附带后果"), default=list)
    computed_at = models.DateTimeField(_("计算时间"), auto_now=True)

    class Meta:
        ordering = ["-year", "-month", "-severity", "division__code"]
        verbose_name = _("预警记录")
        verbose_name_plural = _("预警记录")
        constraints = [
            models.UniqueConstraint(
                fields=["target", "year", "month"], name="warning_unique_target_month"
            )
        ]
        indexes = [models.Index(fields=["year", "month", "indicator"])]

    def __str__(self) -> str:
        return f"{self.division.name} {self.year}-{self.month:02d} {self.level_name}"

    @property
    def period_label(self) -> str:
        return cumulative_period_label(self.year, self.month)

    @property
    def level_label(self) -> str:
        """The level's name in the active language: the rule set's ``name_en`` on English
        pages (kept in ``figures``; for older records looked up in the rule set of the stored
        version), else the translation of the stored (Chinese) name."""
        if _default_language():
            return self.level_name
        name_en = (self.figures or {}).get("level", {}).get("name_en") or _level_names_en(
            self.rule_set_id, self.rule_set_version
        ).get(self.level_id)
        return str(name_en) if name_en else _translated(self.level_name)

    @property
    def required_means_label(self) -> str:
        """What the required figure is, in the active language (from ``figures``; records
        stored before they kept it are matched against the target's requirement)."""
        from dualcontrol.targets.analysis import required_means_label

        if _default_language():
            return self.required_means
        means = (self.figures or {}).get("requirement", {}).get("means") or self._means_of_target()
        if means:
            with translation.override(settings.LANGUAGE_CODE):
                same = required_means_label(means) == self.required_means
            if same:
                return required_means_label(means)
        return _translated(self.required_means)

    def _means_of_target(self) -> dict[str, Any]:
        """:attr:`analysis.Requirement.means` rebuilt from the target (older records)."""
        t = self.target
        n, k = t.end_year - t.base_year, self.year - t.base_year
        five_year = t.period_kind == PeriodKind.FIVE_YEAR
        basis = (self.figures or {}).get("requirement", {}).get("basis")
        if self.indicator == "intensity_reduction":
            if basis == "pace":
                pace = (self.figures or {}).get("target", {}).get("pace_definition")
                return {"kind": "pace", "pace": pace or t.pace, "k": k, "n": n}
            return {"kind": "annual_of_five_year", "n": n} if five_year else {"kind": "annual"}
        prefix = "increment" if self.indicator == "energy_increment" else "total"
        if five_year:
            return {"kind": f"{prefix}_pace", "k": k, "n": n}
        return {"kind": f"{prefix}_annual"}

    @property
    def consequence_texts(self) -> list[str]:
        """The measures attached to the level, in the active language."""
        default = _default_language()
        return [
            str(c.get("text_zh", ""))
            if default
            else str(c.get("text_en") or _translated(str(c.get("text_zh", ""))))
            for c in self.consequences or []
        ]

    @property
    def consequences_text(self) -> str:
        """:attr:`consequence_texts` as one line."""
        return ("；" if _default_language() else "; ").join(self.consequence_texts)


class Alert(models.Model):
    """预警提醒 to a responsible officer: in-app inbox, and the email outbox when it has an address."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="target_alerts"
    )
    warning = models.ForeignKey(WarningRecord, on_delete=models.CASCADE, related_name="alerts")
    subject = models.CharField(_("主题"), max_length=255)
    body = models.TextField(_("内容"))
    created = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    emailed_to = models.EmailField(_("邮件地址"), blank=True)
    emailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("预警提醒")
        verbose_name_plural = _("预警提醒")

    def __str__(self) -> str:
        return self.subject
