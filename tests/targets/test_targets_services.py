"""Services: statistics import, targets, decomposition, letters, warnings and alerts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import translation
from targets_world import build

from dualcontrol.accounts.models import Role
from dualcontrol.audit.models import AuditEntry
from dualcontrol.entities.models import Entity
from dualcontrol.regions.models import Division
from dualcontrol.reporting.models import EnergyReport
from dualcontrol.rollups.services import refresh as refresh_rollups
from dualcontrol.targets import insight, services
from dualcontrol.targets.models import (
    Alert,
    Indicator,
    PeriodKind,
    RegionalStatistic,
    Target,
    TargetStatus,
    WarningRecord,
    WarningRuleSet,
)
from tests.auth import login
from tests.factories import user

pytestmark = pytest.mark.django_db

CSV = (
    "region,year,month,energy_tce,gdp_10k_yuan,gdp_real_growth_pct,source,gdp_per_capita_yuan\n"
    "530100,2025,,1000000,2000000,5.2,省统计局,80000\n"
    "曲靖市,2025,,2000000,1500000,,省统计局,\n"
    "530100,2026,3,260000,520000,5.5,省统计局,\n"
)


# ---------------------------------------------------------------------------------------------
# statistics


def test_import_statistics_creates_and_replaces(world):
    admin = world.users[Role.PROVINCE_ADMIN]
    assert services.import_statistics(data=CSV.encode(), user=admin, filename="s.csv") == 3
    km = RegionalStatistic.objects.get(division__code="530100", year=2025, month__isnull=True)
    assert km.energy_tce == Decimal("1000000") and km.gdp_real_growth_pct == Decimal("5.2")
    assert km.factors == {"gdp_per_capita_yuan": 80000.0} and km.source == "省统计局"
    assert RegionalStatistic.objects.get(division__code="530300").gdp_real_growth_pct is None
    again = CSV.replace("1000000,2000000", "1100000,2000000")
    services.import_statistics(data=again.encode(), user=admin)
    assert RegionalStatistic.objects.count() == 3
    km.refresh_from_db()
    assert km.energy_tce == Decimal("1100000")
    assert AuditEntry.objects.filter(action="statistics.import").count() == 2


def test_import_rejects_the_whole_file_and_names_every_bad_cell(world):
    bad = (
        "region,year,month,quarter,energy_tce,gdp_10k_yuan,gdp_real_growth_pct\n"
        "530100,2025,,,1000,2000,5\n"
        "999999,2025,,,1000,2000,5\n"
        "530100,20x5,13,,abc,0,-150\n"
        "530100,2025,,,1000,2000,5\n"
        "530300,2025,6,2,1000,2000,5\n"
    )
    with pytest.raises(services.StatisticsRejected) as exc:
        services.import_statistics(data=bad.encode(), user=world.users[Role.PROVINCE_ADMIN])
    where = {(e.row, e.field) for e in exc.value.errors}
    assert {
        (3, "region"),
        (4, "year"),
        (4, "month"),
        (4, "energy_tce"),
        (4, "gdp_10k_yuan"),
        (4, "gdp_real_growth_pct"),
        (5, "region"),  # duplicate of row 2
        (6, "quarter"),  # month and quarter both given
        (2, "source"),  # no source column and no file name
    } <= where
    assert RegionalStatistic.objects.count() == 0
    with pytest.raises(services.StatisticsRejected, match="缺少列"):
        services.import_statistics(data=b"region,year\n", user=world.users[Role.PROVINCE_ADMIN])


def test_only_province_staff_import_statistics(world):
    with pytest.raises(services.NotAllowed):
        services.import_statistics(data=CSV.encode(), user=world.users[Role.CITY_OFFICER])


# ---------------------------------------------------------------------------------------------
# targets


def test_targets_scope_and_audit(tw):
    w = tw.world
    county = Division.objects.get(code="530102")
    common = dict(
        indicator=Indicator.ENERGY_INTENSITY_REDUCTION,
        period_kind=PeriodKind.FIVE_YEAR,
        base_year=2025,
        end_year=2030,
        base_value=Decimal("14"),
        source_document="市下达",
    )
    t = services.create_target(user=w.users[Role.CITY_OFFICER], division=county, **common)
    assert t.unit == "%" and t.created_by == w.users[Role.CITY_OFFICER]
    assert AuditEntry.objects.filter(action="target.create", object_id=str(t.pk)).exists()
    with pytest.raises(services.NotAllowed):  # its own city's target comes from the province
        services.create_target(
            user=w.users[Role.CITY_OFFICER], division=tw.divisions["530100"], **common
        )
    with pytest.raises(services.NotAllowed):
        services.create_target(user=w.users["other_city"], division=county, **common)
    with pytest.raises(services.NotAllowed):
        services.update_target(target=tw.city_target, user=w.users[Role.CITY_OFFICER], note="x")
    unit_target = services.create_target(
        user=w.users[Role.CITY_OFFICER],
        entity=w.unit,
        indicator=Indicator.ENERGY_SAVING,
        period_kind=PeriodKind.YEAR,
        base_year=2025,
        end_year=2026,
        base_value=Decimal("1200"),
        source_document="万家企业节能目标",
    )
    assert unit_target.unit == "tce" and unit_target.holder_name == w.unit.name
    with pytest.raises(services.TargetError, match="0 与 100"):
        services.create_target(
            user=w.users[Role.PROVINCE_ADMIN],
            division=county,
            **{**common, "base_value": Decimal("120")},
        )
    with pytest.raises(services.TargetError, match="基期年 \\+ 5"):
        services.create_target(
            user=w.users[Role.PROVINCE_ADMIN], division=county, **{**common, "end_year": 2029}
        )


def test_signed_targets_keep_their_values(tw):
    admin = tw.world.users[Role.PROVINCE_ADMIN]
    letter = services.generate_letter(target=tw.city_target, user=admin)
    services.sign_letter(
        letter=letter,
        user=admin,
        signed_on=dt.date(2026, 3, 1),
        issuer_signatory="甲",
        party_signatory="乙",
    )
    tw.city_target.refresh_from_db()
    assert tw.city_target.status == TargetStatus.SIGNED
    with pytest.raises(services.TargetError, match="已签订"):
        services.update_target(target=tw.city_target, user=admin, base_value=Decimal("10"))
    services.update_target(target=tw.city_target, user=admin, note="说明可以改")


# ---------------------------------------------------------------------------------------------
# barometer


def test_warnings_levels_figures_and_rule_set(tw):
    summary = services.compute_warnings(
        year=2026, month=6, user=tw.world.users[Role.PROVINCE_ADMIN]
    )
    assert summary.rated == 3 and summary.created == 3
    km = WarningRecord.objects.get(target=tw.city_target, year=2026, month=6)
    qj = WarningRecord.objects.get(target=tw.other_target, year=2026, month=6)
    # Kunming: required 15 % × 1/5 = 3 %, achieved 2.85 % → gap 5 % of the target → 二级 yellow
    assert km.required == pytest.approx(0.03) and km.achieved == pytest.approx(0.0285, abs=1e-9)
    assert km.gap_frac_of_required == pytest.approx(0.05, abs=1e-6)
    assert (km.level_number, km.colour, km.is_warning) == ("2", "yellow", True)
    # Qujing: required 2.4 %, achieved 1.92 % → gap 20 % → 一级 red, with its consequence
    assert (qj.level_number, qj.colour) == ("1", "red")
    assert [c["code"] for c in qj.consequences] == ["energy_review_suspended"]
    assert qj.rule_set_name == "ndrc-2021" and qj.rule_set_version.startswith(
        "warning_ndrc_2021.yaml@"
    )
    assert qj.figures["requirement"]["basis"] == "pace"
    assert qj.figures["actuals"]["ytd_growth_frac"] == pytest.approx(0.05)
    assert "gap_frac_of_required" in qj.band
    # a re-run replaces, never duplicates
    again = services.compute_warnings(year=2026, month=6, system=True)
    assert again.updated == 3 and again.created == 0
    assert WarningRecord.objects.count() == 3
    assert AuditEntry.objects.filter(action="warnings.run").count() == 2


def test_warnings_refused_for_city_officers(tw):
    with pytest.raises(services.NotAllowed):
        services.compute_warnings(year=2026, month=6, user=tw.world.users[Role.CITY_OFFICER])


def test_alerts_go_to_the_responsible_officers_once(tw):
    from dualcontrol.jobs.services import deliver_due

    w = tw.world
    w.users[Role.CITY_OFFICER].email = "km@example.gov.cn"
    w.users[Role.CITY_OFFICER].save()
    s = services.compute_warnings(year=2026, month=5, system=True)
    # Kunming yellow → city1 + province staff; Qujing red → city2 + province staff;
    # the province itself (2.23 % against 2.7 %) red → province staff
    recipients = sorted(Alert.objects.values_list("recipient__username", flat=True))
    assert recipients == sorted(["city1", "city2"] + ["admin1", "officer1"] * 3)
    assert s.alerts == 8 and s.emails == 1
    # the mail waits in the outbox until the worker's delivery run (tests/jobs)
    assert mail.outbox == [] and Alert.objects.get(recipient__username="city1").emailed_at is None
    assert deliver_due().sent == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["km@example.gov.cn"]
    assert "昆明市" in mail.outbox[0].subject and "ndrc-2021" in mail.outbox[0].body
    assert Alert.objects.get(recipient__username="city1").emailed_at is not None
    # the same levels next month: no new alert
    services.compute_warnings(year=2026, month=6, system=True)
    assert Alert.objects.count() == 8


def test_a_worsening_region_is_alerted_again(world):
    tw = build(world, months_2026=2)
    services.compute_warnings(year=2026, month=1, system=True, notify=False)
    # Kunming gets worse in February: 1 % achieved against 3 % required → red
    feb = RegionalStatistic.objects.get(division__code="530100", year=2026, month=2)
    feb.energy_tce = Decimal(str(round(1_000_000 * 2 / 12 * 1.05 * 0.99, 4)))
    feb.save()
    services.compute_warnings(year=2026, month=2, system=True)
    red = WarningRecord.objects.get(target=tw.city_target, year=2026, month=2)
    assert red.colour == "red"
    assert Alert.objects.filter(warning=red, recipient__username="city1").exists()


def test_missing_statistics_are_skipped_with_a_reason(tw):
    s = services.compute_warnings(year=2026, month=9, system=True)
    assert s.rated == 0 and len(s.skipped) == 3
    assert "2026-09" in s.skipped[0][1]


def test_local_rule_sets_compare_with_the_annual_target(tw):
    l1 = WarningRuleSet.objects.get(name="local-l1")
    assert l1.compares_with == "annual"
    Target.objects.filter(pk=tw.other_target.pk).update(rule_set=l1)
    services.compute_warnings(year=2026, month=6, system=True)
    qj = WarningRecord.objects.get(target=tw.other_target)
    # annual target implied by 12 % over five years: 1 − 0.88^(1/5) = 2.524 %; 1.92 / 2.524 = 76 %
    assert qj.required == pytest.approx(1 - 0.88**0.2)
    assert qj.figures["completion_frac"] == pytest.approx(0.0192 / (1 - 0.88**0.2), abs=1e-6)
    assert (qj.level_number, qj.colour, qj.rule_set_name) == ("2", "orange", "local-l1")
    l2 = WarningRuleSet.objects.get(name="local-l2")
    Target.objects.filter(pk=tw.other_target.pk).update(rule_set=l2)
    s = services.compute_warnings(year=2026, month=5, system=True)
    assert any("does not rate month 5" in r for _, r in s.skipped)
    services.compute_warnings(year=2026, month=6, system=True)  # 上半年 stage
    staged = WarningRecord.objects.get(target=tw.other_target, month=6)
    assert staged.stage == "half_year" and staged.rule_set_name == "local-l2"
    # gap 2.524 − 1.92 = 0.60 pp → Ⅰ级 yellow (0.3 ≤ gap < 1)
    assert staged.level_id == "I"


def test_admin_rule_sets_are_validated(tw):
    rs = WarningRuleSet(name="broken", title_zh="x", source="x", version="v", definition={})
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        rs.clean()
    good = WarningRuleSet.objects.get(name="ndrc-2021").definition
    bands = good["rules"][0]["bands"]
    broken = {
        **good,
        "name": "broken",
        "rules": [{**good["rules"][0], "bands": bands[:2]}, good["rules"][1]],
    }
    rs.definition = broken
    with pytest.raises(ValidationError, match="no level"):
        rs.clean()
    rs.definition = {**good, "name": "strict"}
    rs.name = "strict"
    rs.clean()
    assert rs.to_core().name == "strict"


# ---------------------------------------------------------------------------------------------
# decomposition


def test_two_methods_side_by_side_and_the_consistency_slack(world):
    tw = build(world, increment_cap=600_000)
    rows = services.sub_regions(tw.province_target)
    assert [r.division.code for r in rows] == ["530100", "530300"]
    params = services.default_params(tw.province_target, rows)
    params.gdp_growth_pct_per_year = 5.0
    tiered = services.run_method(tw.province_target, "tiered", params, rows)
    weighted = services.run_method(tw.province_target, "weighted", params, rows)
    # tiers by base intensity: t1 15.5 % for the more intensive Qujing, t2 13.5 % for Kunming
    assert [round(float(t.target_frac) * 100, 2) for t in tiered.targets] == [13.5, 15.5]
    # the weighted method delivers the provincial target exactly: zero slack
    assert weighted.intensity_check.slack_frac == 0
    summary = services.allocation_summary(tiered, rows)
    ic = tiered.intensity_check
    assert summary["intensity_check"]["slack_pp"] == pytest.approx(float(ic.slack_frac) * 100)
    assert summary["total_check"]["increment_cap_tce"] == 600_000
    # increments implied by the targets: E0 (1 + g)^5 (1 − r) − E0
    km = summary["targets"][0]
    assert km["increment_tce"] == pytest.approx(1_000_000 * (1.05**5 * (1 - 0.135) - 1), rel=1e-9)


def test_adopt_writes_the_city_targets_and_rerates(world):
    tw = build(world, increment_cap=600_000)
    admin = world.users[Role.PROVINCE_ADMIN]
    # replace the hand-made city targets by an adopted decomposition
    WarningRecord.objects.all().delete()
    Target.objects.filter(parent=tw.province_target).delete()
    services.compute_warnings(year=2026, month=6, system=True)
    rows = services.sub_regions(tw.province_target)
    params = services.default_params(tw.province_target, rows)
    dec = services.adopt_decomposition(
        target=tw.province_target, method="weighted", params=params, user=admin
    )
    children = Target.objects.filter(decomposition=dec)
    assert children.filter(indicator=Indicator.ENERGY_INTENSITY_REDUCTION).count() == 2
    inc = children.filter(indicator=Indicator.ENERGY_INCREMENT)
    assert inc.count() == 2 and all(t.parent_id == tw.increment_target.pk for t in inc)
    # incentive targets scale with the province's 14.5 / 13.5
    km = children.get(division__code="530100", indicator=Indicator.ENERGY_INTENSITY_REDUCTION)
    assert float(km.incentive_value) == pytest.approx(float(km.base_value) * 14.5 / 13.5, abs=1e-3)
    assert dec.intensity_slack_pp == pytest.approx(0, abs=1e-9) and dec.total_slack_tce is not None
    # the months already rated are re-rated for the new targets
    assert WarningRecord.objects.filter(target__decomposition=dec, year=2026, month=6).count() == 4
    # the workbench now starts from the adopted parameters and targets
    again = services.default_params(tw.province_target, rows)
    assert again.manual_pct["530100"] == pytest.approx(float(km.base_value), abs=0.01)
    # adopting again replaces the previous city targets …
    dec2 = services.adopt_decomposition(
        target=tw.province_target, method="tiered", params=params, user=admin
    )
    assert not Target.objects.filter(decomposition=dec).exists()
    assert Target.objects.filter(decomposition=dec2).count() == 4
    # … unless a responsibility letter was generated for them
    services.generate_letter(target=Target.objects.filter(decomposition=dec2).first(), user=admin)
    with pytest.raises(services.TargetError, match="责任书"):
        services.adopt_decomposition(
            target=tw.province_target, method="weighted", params=params, user=admin
        )


def test_city_officer_decomposes_its_own_city_to_counties(tw):
    w = tw.world
    counties = Division.objects.filter(parent__code="530100")
    for i, c in enumerate(counties):
        RegionalStatistic.objects.create(
            division=c,
            year=2025,
            energy_tce=400_000 + 100_000 * i,
            gdp_10k_yuan=900_000,
            source="test",
        )
    rows = services.sub_regions(tw.city_target)
    params = services.default_params(tw.city_target, rows)
    params.manual_pct = {r.division.code: 15.0 for r in rows}
    dec = services.adopt_decomposition(
        target=tw.city_target, method="manual", params=params, user=w.users[Role.CITY_OFFICER]
    )
    assert Target.objects.filter(decomposition=dec, division__parent__code="530100").count() == len(
        rows
    )
    with pytest.raises(services.NotAllowed):
        services.adopt_decomposition(
            target=tw.province_target,
            method="manual",
            params=params,
            user=w.users[Role.CITY_OFFICER],
        )
    with pytest.raises(services.NotAllowed):
        services.adopt_decomposition(
            target=tw.city_target, method="manual", params=params, user=w.users["other_city"]
        )


def test_decomposition_names_missing_base_data(tw):
    from dualcontrol.core.decomposition import DecompositionError

    with pytest.raises(DecompositionError, match="五华区"):
        services.run_method(tw.city_target, "weighted", services.WorkbenchParams(tiers=[("a", 1)]))


# ---------------------------------------------------------------------------------------------
# letters


def test_letter_generated_signed_and_protected(tw):
    admin = tw.world.users[Role.PROVINCE_ADMIN]
    letter = services.generate_letter(target=tw.city_target, user=admin)
    assert letter.issuer.code == "530000" and letter.division.code == "530100"
    assert [t["base_value"] for t in letter.content["targets"]] == ["15"]
    assert letter.number.startswith("云南目标责〔") and len(letter.content_sha256) == 64
    # a target changed after generation cannot be signed under the old text
    services.update_target(target=tw.city_target, user=admin, base_value=Decimal("16"))
    with pytest.raises(services.TargetError, match="重新生成"):
        services.sign_letter(
            letter=letter,
            user=admin,
            signed_on=dt.date(2026, 1, 5),
            issuer_signatory="a",
            party_signatory="b",
        )
    fresh = services.generate_letter(target=tw.city_target, user=admin)
    with pytest.raises(services.NotAllowed):
        services.sign_letter(
            letter=fresh,
            user=tw.world.users[Role.CITY_OFFICER],
            signed_on=dt.date(2026, 1, 5),
            issuer_signatory="a",
            party_signatory="b",
        )
    services.sign_letter(
        letter=fresh,
        user=admin,
        signed_on=dt.date(2026, 1, 5),
        issuer_signatory="省长",
        party_signatory="市长",
    )
    fresh.refresh_from_db()
    assert fresh.status == "signed" and fresh.party_signatory == "市长"
    with pytest.raises(services.TargetError, match="已签订"):
        services.sign_letter(
            letter=fresh,
            user=admin,
            signed_on=dt.date(2026, 1, 5),
            issuer_signatory="a",
            party_signatory="b",
        )
    with pytest.raises(services.TargetError, match="国家下达"):
        services.generate_letter(target=tw.province_target, user=admin)
    with pytest.raises(services.NotAllowed):
        services.generate_letter(target=tw.city_target, user=tw.world.users["other_city"])
    assert AuditEntry.objects.filter(action__in=["letter.generate", "letter.sign"]).count() == 3


# ---------------------------------------------------------------------------------------------
# progress and drill-down


def test_region_progress_rows_forecast_and_labels(tw):
    services.compute_warnings(year=2026, month=6, system=True)
    data = insight.region_progress(tw.city_target)
    assert [r["month"] for r in data["rows"]] == [1, 2, 3, 4, 5, 6]
    last = data["latest"]
    assert last["cumulative_reduction_pct"] == pytest.approx(2.85, abs=1e-6)
    assert last["required_pct"] == pytest.approx(3.0)
    assert last["time_pace_pct"] == pytest.approx(20.0)
    # progress (logarithmic definition) = ln(1 − 0.0285) / ln(1 − 0.15)
    import math

    assert last["progress_pct"] == pytest.approx(
        round(math.log(1 - 0.0285) / math.log(0.85) * 100, 1)
    )
    assert data["progress_label"] == "对数口径" and "ln(1" in data["progress_formula"]
    assert last["warning"].colour == "yellow"
    f = data["forecast"]
    assert f["low_pct"] < f["central_pct"] < f["high_pct"]
    assert len(data["chart"]["labels"]) == 60 and data["chart"]["forecast"]["label"] == "2030-12"
    quarters = insight.region_progress(tw.city_target, granularity="quarter")
    assert [r["month"] for r in quarters["rows"]] == [3, 6]


def test_drilldown_ranks_units_by_their_part_in_the_gap(tw):
    w = tw.world
    services.compute_warnings(year=2026, month=6, system=True)
    # the Kunming unit: 1000 tce a month in 2025, 1100 in 2026 (accepted)
    reports = []
    for y, e in ((2025, 1000), (2026, 1100)):
        for m in range(1, 7):
            reports.append(
                EnergyReport(
                    entity=w.unit,
                    period_type="monthly",
                    year=y,
                    month=m,
                    status="accepted",
                    energy_tce=e,
                )
            )
    EnergyReport.objects.bulk_create(reports)
    refresh_rollups()  # what the background job does after the reports change
    data = insight.drilldown(tw.city_target, w.users[Role.CITY_OFFICER], year=2026, month=6)
    assert data["error"] is None
    (unit,) = data["units"]
    r_star = 0.03  # year 1: the whole required 3 %
    allowed = 6000 * 1.05 * (1 - r_star)
    assert unit.allowed_tce == pytest.approx(allowed)
    assert unit.excess_tce == pytest.approx(6600 - allowed)
    region_excess = data["region_excess_tce"]
    assert region_excess == pytest.approx(
        1_000_000 / 2 * 1.05 * (1 - 0.0285) - 1_000_000 / 2 * 1.05 * 0.97
    )
    assert unit.share_of_gap_frac == pytest.approx((6600 - allowed) / region_excess)
    assert [s.name for s in data["sectors"]] == ["30 非金属矿物制品业"]
    # the other city's officer does not see Kunming's units
    other = insight.drilldown(tw.city_target, w.users["other_city"], year=2026, month=6)
    assert other["units"] == []


def test_dashboard_tiles_and_ranking(tw):
    services.compute_warnings(year=2026, month=6, system=True)
    data = insight.dashboard(tw.world.users[Role.PROVINCE_OFFICER])
    assert data["plan"] == (2025, 2030) and data["period"] == (2026, 6)
    assert sorted(t.division.code for t in data["tiles"]) == ["530100", "530300"]
    assert data["root_warning"].division.code == "530000"
    assert [r["division"].code for r in data["ranking"]] == ["530300", "530100"]  # red first
    assert data["counts"] == {"red": 1, "yellow": 1}
    city = insight.dashboard(tw.world.users[Role.CITY_OFFICER])
    assert city["root"].code == "530100" and city["root_warning"].colour == "yellow"
    assert city["tiles"] and all(t.division.parent.code == "530100" for t in city["tiles"])
    assert all(t.warning is None for t in city["tiles"])  # no county targets yet


def test_a_user_without_scope_gets_nothing(tw):
    nobody = user("nobody", Role.PUBLIC)
    assert insight.dashboard(nobody)["tiles"] == []


def test_rule_sets_are_edited_in_the_admin(tw):
    from django.test import Client

    c = Client()
    login(c, tw.world.users[Role.SYSTEM_ADMIN])
    good = WarningRuleSet.objects.get(name="ndrc-2021")
    import yaml

    text = yaml.safe_dump({**good.definition, "name": "x"}, allow_unicode=True)
    form = {
        "name": "province-2026",
        "title_zh": "本省晴雨表（2026）",
        "source": "省发展改革委文件",
        "compares_with": "pace",
        "active": "on",
        "definition_yaml": text.replace("value: 0.1", "value: 0.15"),
    }
    r = c.post("/admin/targets/warningruleset/add/", form)
    assert r.status_code == 302, r.content.decode()[:2000]
    rs = WarningRuleSet.objects.get(name="province-2026")
    assert rs.version.startswith("admin:province-2026@") and not rs.is_builtin
    assert rs.to_core().rules[0].bands[2].lower.value == Decimal("0.15")
    assert AuditEntry.objects.filter(action="admin.add", object_id=str(rs.pk)).exists()
    gap = {**good.definition}
    gap["rules"] = [{**gap["rules"][0], "bands": gap["rules"][0]["bands"][1:]}, gap["rules"][1]]
    bad = {**form, "name": "broken", "definition_yaml": yaml.safe_dump(gap, allow_unicode=True)}
    r = c.post("/admin/targets/warningruleset/add/", bad)
    assert r.status_code == 200 and not WarningRuleSet.objects.filter(name="broken").exists()
    assert "get no level" in r.content.decode()  # the loader's message, on the YAML field
    assert (
        c.post("/admin/targets/warningruleset/add/", {**bad, "definition_yaml": "a: ["}).status_code
        == 200
    )
    # a target rated by the new set records it
    Target.objects.filter(pk=tw.other_target.pk).update(rule_set=rs)
    services.compute_warnings(year=2026, month=6, system=True)
    w = WarningRecord.objects.get(target=tw.other_target)
    assert w.rule_set_name == "province-2026" and w.rule_set_version == rs.version


# ---------------------------------------------------------------------------------------------
# English pages: stored texts stay in the platform's language, labels follow the page

CJK = re.compile(r"[\u4e00-\u9fff（）：，。；]")


def test_warnings_run_in_english_store_chinese_and_show_english_levels(tw):
    with translation.override("en"):
        services.compute_warnings(year=2026, month=6, user=tw.world.users[Role.PROVINCE_ADMIN])
    km = WarningRecord.objects.get(target=tw.city_target, year=2026, month=6)
    qj = WarningRecord.objects.get(target=tw.other_target, year=2026, month=6)
    assert km.level_name == "二级预警（黄灯）" and km.required_means == "序时进度（线性，1/5年）"
    assert km.figures["requirement"]["means"] == {"kind": "pace", "pace": "linear", "k": 1, "n": 5}
    assert km.level_label == "二级预警（黄灯）" and qj.consequences_text == "暂停新上项目节能审查"
    with translation.override("en"):
        # the rule set's name_en (reference data), for new and for older records
        assert km.level_label == "level 2 warning (yellow)"
        qj.figures.pop("level")
        assert qj.level_label == "level 1 warning (red)"
        assert "new projects suspended" in qj.consequences_text
        assert km.period_label == "2026, months 1–6"


def test_letters_are_written_in_chinese_whatever_the_page_language(tw):
    with translation.override("en"):
        letter = services.generate_letter(
            target=tw.city_target, user=tw.world.users[Role.PROVINCE_ADMIN]
        )
    c = letter.content
    assert letter.title == c["title"] == "昆明市“2026–2030”节能减排目标责任书"
    assert c["targets"][0]["indicator_name"] == "单位地区生产总值能耗降低"
    assert c["targets"][0]["period_kind"] == "五年"
    assert c["clauses"][0].startswith("责任方按本责任书所列目标")
    assert services.letter_display(letter)["clauses"] == c["clauses"]  # zh page: as written


def test_english_labels_of_targets_pages(tw):
    """Needs the English catalogue with locale/en/LC_MESSAGES/additions-labels.po merged."""
    services.compute_warnings(year=2026, month=6, system=True)
    letter = services.generate_letter(
        target=tw.city_target, user=tw.world.users[Role.PROVINCE_ADMIN]
    )
    km = WarningRecord.objects.get(target=tw.city_target, year=2026, month=6)
    annual = RegionalStatistic.objects.filter(month__isnull=True).first()
    with translation.override("en"):
        shown = services.letter_display(letter)
        labels = [
            km.required_means_label,
            annual.period_label,
            str(insight.PROGRESS_LABELS["log"]),
            str(insight.PACE_LABELS["compound"]),
            *shown["clauses"],
            shown["targets"][0]["indicator_name"],
        ]
        title = letter.title_label
        with pytest.raises(services.StatisticsRejected) as exc:
            services.import_statistics(
                data=b"region,year,energy_tce,gdp_10k_yuan,gdp_real_growth_pct\n9,x,-1,0,\n",
                user=tw.world.users[Role.PROVINCE_ADMIN],
            )
    labels += [e.reason for e in exc.value.errors]
    assert km.required_means_label == "序时进度（线性，1/5年）"
    assert labels[0] == "pace (linear, 1/5 years)" and labels[1] == "2025"
    assert (
        title
        == shown["title"]
        == (
            "昆明市 energy conservation and emission reduction target-responsibility letter 2026–2030"
        )
    )
    assert not [label for label in labels if CJK.search(str(label))]


def test_drilldown_previous_year_from_the_same_months_or_an_estimate(tw):
    """Last year's figure is the sum of the months this year has (when last year had them all,
    even with more months), else an estimate from the unit's annual energy, else missing."""
    from tests import factories

    w = tw.world
    services.compute_warnings(year=2026, month=6, system=True)
    more_last_year = factories.entity(w.county, "去年月份更多的单位")
    estimated = factories.entity(w.county, "去年没有月报的单位")
    missing = factories.entity(w.county, "没有上年数据的单位")
    Entity.objects.filter(pk__in=[more_last_year.pk, estimated.pk, missing.pk]).update(
        is_key_energy_unit=True
    )
    Entity.objects.filter(pk=estimated.pk).update(annual_energy_tce=24000)
    Entity.objects.filter(pk=w.unit.pk).update(is_key_energy_unit=True)
    rows = []

    def monthly(unit, year, months, energy):
        for m in months:
            rows.append(
                EnergyReport(
                    entity=unit,
                    period_type="monthly",
                    year=year,
                    month=m,
                    status="accepted",
                    energy_tce=energy * m,
                )
            )

    monthly(more_last_year, 2025, range(1, 7), 100)  # 100, 200, … 600
    monthly(more_last_year, 2026, [1, 3, 5], 110)  # months 2, 4, 6 not (yet) reported
    monthly(estimated, 2026, [1, 2], 1000)
    monthly(missing, 2026, [4], 10)
    EnergyReport.objects.bulk_create(rows)
    refresh_rollups()
    data = insight.drilldown(tw.city_target, w.users[Role.CITY_OFFICER], year=2026, month=6)
    info = data["unit_info"]
    a = info[more_last_year.pk]
    assert (a.current_tce, a.previous_tce, a.previous_estimated) == (
        pytest.approx(110 * (1 + 3 + 5)),
        pytest.approx(100 * (1 + 3 + 5)),
        False,
    )
    b = info[estimated.pk]
    assert b.current_tce == pytest.approx(3000)
    assert (b.previous_tce, b.previous_estimated) == (pytest.approx(24000 * 2 / 12), True)
    c = info[missing.pk]
    assert (c.current_tce, c.previous_tce, c.previous_estimated) == (40, None, False)
    assert data["missing_previous"] == 1 and data["estimated_previous"] == 1


def test_the_map_legend_is_the_rule_sets_levels(tw, client):
    """Issue 14: the legend listed an orange level that the default rule set does not have."""
    from django.utils import translation

    from dualcontrol.targets.warnings import default_rule_set
    from tests.auth import login

    services.compute_warnings(year=2026, month=6, system=True)
    data = insight.dashboard(tw.world.users[Role.PROVINCE_OFFICER])
    levels = default_rule_set().to_core().levels
    colours = [lv.colour for lv in sorted(levels, key=lambda lv: -lv.severity)]
    assert [e["colour"] for e in data["legend"]] == list(dict.fromkeys(colours))
    assert "orange" not in colours  # the default rule set (NDRC 2021) has no orange level
    top = max(levels, key=lambda lv: lv.severity)
    assert data["legend"][0]["name"] == top.name_zh
    html = login(client, tw.world.users[Role.PROVINCE_OFFICER]).get("/targets/").content.decode()
    assert "legend-red" in html and "legend-orange" not in html
    with translation.override("en"):
        names = [e["name"] for e in insight.legend([])]
    assert names[0] == top.name_en and all(names)
