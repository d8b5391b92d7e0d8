"""The publishing part of the demo province (runs after the assessment part).

SYNTHETIC (marked): 全社会用电量 of the province and the 16 prefectures for 2014–2015 (so the
bulletin's electricity-intensity column can be shown); the published 2015 bulletin and the
2015 result lists are built from the demo's synthetic statistics and assessments.  The national
row (全国) is left blank on purpose: the platform holds no NBS figure for it, and the bulletin
says so in a footnote rather than inventing one.

CO2 table: the bulletin carries it for a year with co2_t in the statistics.  The demo's CO2
statistics are 2025 and January…the latest month of 2026, so while 2026 is incomplete no
bulletin year has them (a bulletin needs the year and the year before, annual); once 2026 annual
statistics exist the latest such year's bulletin is published too, CO2 table included.

Pollutant table: the 2025 bulletin carries it (the demo's 2025 annual rows have cod_t … vocs_t);
the change on 2024 is blank with a footnote, because the demo has no 2024 emissions, and no cap
column appears, because no cap target covers 2025 (the 12th-FYP caps end in 2015, the
illustrative SO2 cap starts in 2026).  Nothing is estimated.

Exceedance list (超标名单): the list of the last complete quarter, built from the monitoring demo's
history (:mod:`dualcontrol.monitoring.demo`), reviewed — the alarm the unit explained as a
calibration run is struck as 误报 with the reason, which the list publishes — and published by the
province a month after the quarter (or today, if sooner).  The running quarter has no list.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from dualcontrol.accounts.models import User
from dualcontrol.assessment.models import AssessmentRound, RoundStatus
from dualcontrol.publishing import services
from dualcontrol.publishing.models import Publication, RegionalElectricity
from dualcontrol.regions.models import Division
from dualcontrol.targets.models import RegionalStatistic

YEAR = 2015
SOURCE = "平台演示：合成全社会用电量（非官方，仅用于演示）"
PUBLISHED_ON = dt.date(2016, 6, 15)
BULLETIN_ON = dt.date(2016, 8, 18)
ISSUERS = "（演示）省统计局　省发展改革委　省能源局"
EXCEEDANCE_ISSUERS = "（演示）省生态环境厅"
SEED = 20151


def extend_demo(*, today: dt.date) -> None:
    """Seed synthetic electricity, publish the 2015 bulletin and result lists, and the bulletin
    of the latest complete 15th-FYP year when there is one (idempotent)."""
    province = (
        Division.objects.filter(parent__isnull=True, level="province").order_by("code").first()
    )
    if province is None:
        return
    if not Publication.objects.filter(is_synthetic=True, year=YEAR).exists():
        _year_2015(province)
    _latest_bulletin(province)
    _later_results(today)
    _exceedance_list(today)


def _later_results(today: dt.date) -> None:
    """The results of every signed-off demo round after 2015 (the 2025 carbon round), published
    on the day the assessment demo announced them (idempotent)."""
    admin = User.objects.filter(username="demo-province").first()
    for rnd in AssessmentRound.objects.filter(
        is_synthetic=True, year__gt=YEAR, status=RoundStatus.SIGNED_OFF
    ).order_by("year", "id"):
        if Publication.objects.filter(round=rnd).exists():
            continue
        published_on = min(rnd.announced_on or today, today)
        services.publish_results(user=admin, round=rnd, published_on=published_on, system=True)


def _exceedance_list(today: dt.date) -> Publication | None:
    """Build, review and publish the last complete quarter's exceedance list (unless published)."""
    from dualcontrol.core.exceedances import last_complete_quarter, quarter_dates
    from dualcontrol.monitoring.demo import FALSE_ALARM_TEXT
    from dualcontrol.monitoring.models import Alarm, Outlet
    from dualcontrol.publishing.models import PublicationKind

    if not Outlet.objects.filter(is_synthetic=True).exists():
        return None
    year, quarter = last_complete_quarter(today)
    if services.current_quarterly(PublicationKind.EXCEEDANCES, year, quarter) is not None:
        return None
    admin = User.objects.filter(username="demo-province").first()
    now = dt.datetime.combine(today, dt.time(9), tzinfo=timezone.get_current_timezone())
    draft = services.build_exceedance_draft(
        user=admin, year=year, quarter=quarter, issuers=EXCEEDANCE_ISSUERS, now=now, system=True
    )
    listed = {a["id"] for r in draft.content["rows"] for a in r["alarms"]}
    for alarm in Alarm.objects.filter(pk__in=listed, explanation=FALSE_ALARM_TEXT):
        draft = services.strike_alarm(
            user=admin,
            draft=draft,
            alarm_id=alarm.pk,
            reason="经核实为在线监测设备比对校准期间的数据，属误报（演示）",
            system=True,
        )
    last = quarter_dates(year, quarter)[1]
    return services.publish_exceedance_list(
        user=admin,
        draft=draft,
        published_on=min(today, last + dt.timedelta(days=30)),
        now=now,
        system=True,
    )


def _latest_bulletin(province: Division) -> Publication | None:
    """The bulletin of the latest year after the 12th FYP whose annual statistics (and the year
    before's) exist — with its CO2 table — unless published already."""
    from dualcontrol.publishing import bulletin

    years = [y for y in bulletin.available_years(province) if y > YEAR]
    if not years or services.current("bulletin", years[0]) is not None:
        return None
    admin = User.objects.filter(username="demo-province").first()
    return services.publish_bulletin(
        user=admin,
        year=years[0],
        published_on=dt.date(years[0] + 1, 3, 1),
        issuers=ISSUERS,
        province=province,
        system=True,
    )


def _year_2015(province: Division) -> None:
    stats = {
        (s.division_id, s.year): s
        for s in RegionalStatistic.objects.filter(
            division__path__startswith=province.path,
            division__level__in=("province", "prefecture"),
            year__in=(YEAR - 1, YEAR),
            month__isnull=True,
            quarter__isnull=True,
        )
    }
    if not any(y == YEAR for (_, y) in stats):
        return
    rng = random.Random(SEED)
    admin = User.objects.filter(username="demo-province").first()
    prefectures = list(Division.objects.filter(parent=province).order_by("code"))
    rows = []
    totals = {YEAR - 1: Decimal(0), YEAR: Decimal(0)}
    for d in prefectures:
        if (d.pk, YEAR - 1) not in stats or (d.pk, YEAR) not in stats:
            continue
        before = stats[(d.pk, YEAR - 1)]
        # kWh per tce of a Yunnan-like mix (hydro-rich): ~1 600–2 200 kWh/tce (synthetic)
        e0 = before.energy_tce * Decimal(str(round(rng.uniform(0.16, 0.22), 4)))  # 万千瓦时
        growth = stats[(d.pk, YEAR)].gdp_real_growth_pct or Decimal(8)
        e1 = e0 * (1 + growth / 100 * Decimal(str(round(rng.uniform(0.3, 1.1), 3))))
        for y, v in ((YEAR - 1, e0), (YEAR, e1)):
            v = v.quantize(Decimal("0.01"))
            totals[y] += v
            rows.append(
                RegionalElectricity(
                    division=d, year=y, electricity_10k_kwh=v, source=SOURCE, is_synthetic=True
                )
            )
    for y, v in totals.items():
        if v:
            rows.append(
                RegionalElectricity(
                    division=province,
                    year=y,
                    electricity_10k_kwh=v,
                    source=SOURCE,
                    is_synthetic=True,
                )
            )
    RegionalElectricity.objects.bulk_create(rows, ignore_conflicts=True)
    for rnd in AssessmentRound.objects.filter(
        is_synthetic=True, year=YEAR, status=RoundStatus.SIGNED_OFF
    ).order_by("id"):
        services.publish_results(user=admin, round=rnd, published_on=PUBLISHED_ON, system=True)
    services.publish_bulletin(
        user=admin,
        year=YEAR,
        published_on=BULLETIN_ON,
        issuers=ISSUERS,
        province=province,
        system=True,
    )
