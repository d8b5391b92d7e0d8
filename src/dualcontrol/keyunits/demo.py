"""The key-unit part of the demo province (called by :func:`dualcontrol.demo.builder.build`).

SYNTHETIC (every figure ILLUSTRATIVE, drawn with a fixed seed): for the last year and the one
before, the proposals are made by the service from the units' energy use and the province
confirms them (one unit removed with a reason, a few left proposed); each confirmed unit has an
energy manager and, for the last year, a status report with its energy use by kind and product
lines in the units of the limit standards (cement clinker, electrolytic aluminium — the smelters
are units of 有色金属 industry 32, added when the demo has too few — blast furnace, converter,
coke; 黄磷 has no limit line and stays ungraded).  Most reports are accepted; some wait for
review, one is returned, one is a draft and a few are missing.  Grades and surcharges are then
computed by the services, audits ordered for the units over a limit and tracked (one report
received, one closed), and the lists published.  Bulk writes keep the build short; each step
records its audit entry.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from dualcontrol.audit.services import record
from dualcontrol.core.codes import USCC_CHARSET, make_uscc
from dualcontrol.entities.models import Entity, Industry
from dualcontrol.keyunits import services
from dualcontrol.keyunits.models import (
    Designation,
    DesignationStatus,
    EnergyManager,
    EnergyUse,
    ListKind,
    ProductLine,
    StatusReport,
    StatusReportEvent,
    StatusReportRevision,
)
from dualcontrol.keyunits.rules import load_rules
from dualcontrol.regions.models import Division
from dualcontrol.reporting.models import Status as RStatus

DEMO_AFTER = ("dualcontrol.reporting",)
SEED = 1616
SMELTERS = 3
TZ = dt.timezone(dt.timedelta(hours=8))
#: industry → product lines: (product, indicator, low, high, share of energy, correction inputs)
LINES: dict[str, list[tuple[str, str, float, float, float, dict[str, str]]]] = {
    "30": [
        ("cement_clinker", "comprehensive_energy", 97, 121, 0.85, {}),
        ("cement_clinker", "comprehensive_power", 46, 63, 0.0, {}),
    ],
    "32": [("electrolytic_aluminium", "molten_al_comprehensive_ac_power", 13240, 13760, 1.0, {})],
    "31": [
        ("blast_furnace", "energy", 356, 421, 0.7, {}),
        ("converter", "energy", -31, -10, 0.0, {}),
    ],
    "25": [("coke_top_charged", "energy", 106, 139, 0.9, {})],
    "26": [("yellow_phosphorus", "comprehensive_energy", 2300, 3100, 0.6, {})],  # no limit line
}
#: kWh → kgce (当量值 0.1229 kgce/kWh, GB/T 2589) only to size the smelters' output — demo only
KGCE_PER_KWH = Decimal("0.1229")


def _q(x: float, places: str = "0.01") -> Decimal:
    return Decimal(str(x)).quantize(Decimal(places))


def _smelters(rng: random.Random) -> list[Entity]:
    """Units of industry 32 stand for the electrolytic-aluminium smelters (added when too few)."""
    found = list(
        Entity.objects.filter(is_synthetic=True, industry__code="32").order_by(
            "-annual_energy_tce"
        )[:SMELTERS]
    )
    if len(found) >= SMELTERS:
        return found
    industry = Industry.objects.get_or_create(
        code="32", defaults={"name": "有色金属冶炼和压延加工业", "source": "GB/T 4754-2017"}
    )[0]
    counties = list(Division.objects.filter(level="county").order_by("code"))
    for i in range(SMELTERS - len(found)):
        county = rng.choice(counties)
        body = "".join(rng.choice(USCC_CHARSET) for _ in range(9))
        found.append(
            Entity.objects.create(
                uscc=make_uscc("91", county.code, body),
                name=f"{county.name}绿能电解铝有限公司{'' if i == 0 else i + 1}",
                division=county,
                industry=industry,
                is_key_energy_unit=True,
                annual_energy_tce=_q(rng.uniform(420000, 760000)),
                address=county.name,
                is_synthetic=True,
            )
        )
    return found


def extend_demo(*, today: dt.date) -> None:
    rng = random.Random(SEED)
    year = today.year - 1
    smelters = _smelters(rng)
    smelter_ids = {e.pk for e in smelters}
    rules = load_rules()
    now = dt.datetime.combine(rules.status_deadline(year), dt.time(10), TZ)
    if now > timezone.now():
        now = timezone.now()
    # designations: the year before and the last year, proposed by the service, decided in bulk
    for y in (year - 1, year):
        services.propose_designations(year=y, user=None)
        qs = Designation.objects.filter(year=y).order_by("entity_id")
        ids = list(qs.values_list("pk", flat=True))
        keep_proposed = set(ids[3:6]) if y == year else set()
        removed = ids[6] if y == year and len(ids) > 7 else None
        undecided = keep_proposed | ({removed} if removed else set())
        qs.exclude(pk__in=undecided).update(
            status=DesignationStatus.CONFIRMED,
            decided_at=now,
            published=y < year,
            published_at=now if y < year else None,
        )
        if removed:
            Designation.objects.filter(pk=removed).update(
                status=DesignationStatus.REMOVED,
                decided_at=now,
                reason="演示：已关停，不再纳入（合成数据）",
            )
        record(
            actor=None,
            action="keyunits.demo.decide",
            object_type="keyunits.designation",
            object_repr=f"{y}",
            after={"year": y, "confirmed": len(ids) - len(keep_proposed) - bool(removed)},
        )
    confirmed = list(
        Designation.objects.filter(year=year, status=DesignationStatus.CONFIRMED)
        .select_related("entity", "entity__industry")
        .order_by("entity_id")
    )
    surnames = "王李张刘陈杨赵黄周吴"
    EnergyManager.objects.bulk_create(
        [
            EnergyManager(
                entity=d.entity,
                name=f"{rng.choice(surnames)}{rng.choice('明华军芳敏强丽伟')}",
                certificate_no=f"YN-EM-{year}-{i:04d}",
                valid_until=dt.date(year + 3, 12, 31),
            )
            for i, d in enumerate(confirmed, start=1)
        ],
        ignore_conflicts=True,
    )
    # status reports for the last year
    reports: list[StatusReport] = []
    seen: dict[tuple[str, str], int] = {}
    contents: list[tuple[list[EnergyUse], list[ProductLine]]] = []
    n = len(confirmed)
    from dualcontrol.accounts.models import User

    demo_user = User.objects.filter(username="demo-enterprise").first()
    first_unit = demo_user.entity if demo_user is not None and demo_user.entity_id else None
    for i, d in enumerate(confirmed):
        e = d.entity
        if i % 23 == 22 and e.pk != (first_unit.pk if first_unit else 0):
            continue  # missing: reminders and the "not submitted" count
        status = RStatus.ACCEPTED
        if first_unit is not None and e.pk == first_unit.pk:
            status = RStatus.RETURNED  # the demo enterprise corrects its report
        elif i % 17 == 5:
            status = RStatus.SUBMITTED
        elif i == n - 1:
            status = RStatus.DRAFT
        energy = d.basis_energy_tce
        uses = [
            EnergyUse(
                kind="原煤",
                unit="吨",
                quantity=_q(float(energy) * 0.55 / 0.7143),
                energy_tce=_q(float(energy) * 0.55),
            ),
            EnergyUse(
                kind="电力",
                unit="万千瓦时",
                quantity=_q(float(energy) * 0.40 / 1.229),
                energy_tce=_q(float(energy) * 0.40),
            ),
            EnergyUse(
                kind="天然气",
                unit="万立方米",
                quantity=_q(float(energy) * 0.05 / 12.143),
                energy_tce=_q(float(energy) * 0.05),
            ),
        ]
        code = "32" if e.pk in smelter_ids else (e.industry.code if e.industry_id else "")
        if code == "32" and e.pk not in smelter_ids:
            code = ""  # other non-ferrous metals: copper, zinc … have no line in the data
        lines = []
        for product, indicator, low, high, share, corr in LINES.get(code, []):
            seen[product, indicator] = seen.get((product, indicator), 0) + 1
            # the first line of a product is among the best, the second over its limit
            drawn = {1: low, 2: high}.get(seen[product, indicator], rng.uniform(low, high))
            value = _q(drawn, "0.1")
            if product == "electrolytic_aluminium":
                value = _q(drawn, "1")
                output = _q(float(energy) * 1000 / float(value * KGCE_PER_KWH), "1")
                kwh = output * value
            else:
                basis = share or 0.85
                output = _q(float(energy) * 1000 * basis / max(abs(float(value)), 50), "1")
                kwh = None
            lines.append(
                ProductLine(
                    product=product,
                    indicator=indicator,
                    output=output,
                    output_unit="t",
                    value=value,
                    unit="kWh/t" if "power" in indicator else "kgce/t",
                    electricity_kwh=kwh,
                    corrections=corr,
                )
            )
        reports.append(
            StatusReport(
                entity=e,
                year=year,
                status=status,
                deadline=rules.status_deadline(year),
                energy_tce=sum((u.energy_tce for u in uses), Decimal(0)),
                savings_tce=_q(float(energy) * rng.uniform(0.005, 0.03)),
                measures="余热余压利用、电机系统节能改造（演示数据）",
                manager_name="",
                source="demo",
                submitted_at=None if status == RStatus.DRAFT else now,
            )
        )
        contents.append((uses, lines))
    StatusReport.objects.bulk_create(reports, batch_size=500)
    saved = {
        r.entity_id: r for r in StatusReport.objects.filter(year=year).select_related("entity")
    }
    all_uses, all_lines, events, revisions = [], [], [], []
    for r, (uses, lines) in zip(reports, contents, strict=True):
        report = saved[r.entity.pk]
        for u in uses:
            u.report = report
        for ln in lines:
            ln.report = report
        all_uses += uses
        all_lines += lines
        events.append(StatusReportEvent(report=report, revision=1, action="saved"))
        if report.status != RStatus.DRAFT:
            events.append(StatusReportEvent(report=report, revision=1, action="submitted"))
            revisions.append(StatusReportRevision(report=report, number=1, content={"demo": True}))
        if report.status == RStatus.ACCEPTED:
            events.append(StatusReportEvent(report=report, revision=1, action="accepted"))
        if report.status == RStatus.RETURNED:
            events.append(
                StatusReportEvent(
                    report=report,
                    revision=1,
                    action="returned",
                    reason="单位产品综合能耗与能源消费结构不一致，请核实熟料产量（演示）",
                )
            )
    EnergyUse.objects.bulk_create(all_uses, batch_size=1000)
    ProductLine.objects.bulk_create(all_lines, batch_size=1000)
    StatusReportEvent.objects.bulk_create(events, batch_size=1000)
    StatusReportRevision.objects.bulk_create(revisions, batch_size=1000)
    record(
        actor=None,
        action="keyunits.demo.reports",
        object_type="keyunits.statusreport",
        object_repr=f"{year}",
        after={"year": year, "reports": len(reports), "lines": len(all_lines)},
    )
    # computed by the services: grades, surcharges, audits; the lists published
    services.compute_grades(year=year, user=None)
    services.compute_surcharges(year=year, user=None)
    ordered_on = min(rules.status_deadline(year) + dt.timedelta(days=45), today)
    audits = services.order_audits_for_over_limit(year=year, user=None, ordered_on=ordered_on)
    if audits:
        a = audits[0]
        services.record_audit_report(
            audit=a,
            user=None,
            reference="能源审计报告（演示）",
            received_on=min(ordered_on + dt.timedelta(days=120), today),
        )
        services.close_audit(
            audit=a,
            user=None,
            note="审计报告已审查，整改计划已备案（演示）",
            closed_on=min(ordered_on + dt.timedelta(days=150), today),
        )
    if len(audits) > 1:
        services.record_audit_report(
            audit=audits[1],
            user=None,
            reference="能源审计报告（演示）",
            received_on=min(ordered_on + dt.timedelta(days=100), today),
        )
    for kind in (
        ListKind.DESIGNATIONS,
        ListKind.OVER_LIMIT,
        ListKind.FRONTRUNNERS,
        ListKind.BELOW_BASELINE,
        ListKind.SURCHARGES,
    ):
        with contextlib.suppress(services.WorkflowError):  # an empty list is not published
            services.publish_list(kind=kind, year=year, user=None)
