"""Build the demo province into an empty database (refused outside demo/test mode).

Real: the divisions of Yunnan (GB/T 2260 codes), department names and the provincial targets of
the 2011–2015 plan.  Synthetic (and marked so): key units, their USCCs and monthly 205-1 reports
for 2010–2015, 2025 and 2026 up to the latest complete month.  The generator's parameters are in
``reference/data/demo_yunnan.yaml``; the seed is fixed, so two builds are identical.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dualcontrol.accounts import second_factor
from dualcontrol.accounts.models import Role, User
from dualcontrol.audit.services import record
from dualcontrol.core.codes import USCC_CHARSET, make_uscc
from dualcontrol.core.report205 import QUANTITY_FIELDS, Row205
from dualcontrol.dbstats import analyze
from dualcontrol.entities.models import Entity, Industry
from dualcontrol.reference import load_csv, load_yaml
from dualcontrol.reference.energy_products import energy_products
from dualcontrol.regions.models import Department, Division
from dualcontrol.reporting.accounting import account_many
from dualcontrol.reporting.models import (
    EnergyProduct,
    EnergyReport,
    ReportEvent,
    ReportLine,
    ReportRevision,
    Source,
    Status,
)

DEMO_PASSWORD = "demo12345"
DEMO_USERS = (
    "demo-province",
    "demo-city",
    "demo-enterprise",
    "demo-verifier",
    "demo-sysadmin",
    "demo-security",
    "demo-auditor",
)
NAME_WORDS = [
    "滇源",
    "云岭",
    "金沙",
    "南盘",
    "红河",
    "高原",
    "彩云",
    "澜沧",
    "苍洱",
    "翠湖",
    "乌蒙",
    "哀牢",
    "玉龙",
    "抚仙",
    "珠江",
    "石林",
]
INDUSTRY_WORDS = {
    "30": "水泥",
    "32": "有色金属",
    "31": "钢铁",
    "26": "磷化工",
    "44": "发电",
    "06": "煤业",
    "22": "纸业",
    "13": "糖业",
    "16": "卷烟配套",
    "25": "焦化",
    "54": "运输",
}


class DemoRefused(RuntimeError):
    pass


@dataclass
class DemoSummary:
    divisions: int
    departments: int
    entities: int
    reports: int
    lines: int


def latest_complete_month(today: dt.date) -> tuple[int, int]:
    first = today.replace(day=1) - dt.timedelta(days=1)
    return first.year, first.month


def q(value: float, places: str = "0.01") -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places))


def seed_catalogue(user: Any = None) -> int:
    """Energy products, industries: reference data → admin-editable tables (idempotent)."""
    n = 0
    for i, p in enumerate(energy_products()):
        _, created = EnergyProduct.objects.update_or_create(
            code=p.code,
            valid_from=p.valid_from,
            defaults=dict(
                code_source=p.code_source,
                name_zh=p.name_zh,
                name_en=p.name_en,
                unit=p.unit,
                kind=p.kind,
                coefficient_tce_per_unit=p.coefficient_tce_per_unit,
                plausible_low=p.plausible_low,
                plausible_high=p.plausible_high,
                plausible_source=p.plausible_source,
                source=p.source,
                valid_to=p.valid_to,
                data_version=p.version,
                sort_order=i,
            ),
        )
        n += created
    for r in load_csv("industries_gbt4754.csv").rows:
        Industry.objects.update_or_create(
            code=r["code"], defaults={"name": r["name"], "source": r["source"]}
        )
    record(
        actor=user,
        action="catalogue.seed",
        object_type="reporting.energyproduct",
        object_repr="energy_products.csv",
        after={"created": n},
    )
    return n


def seed_divisions(code: str) -> dict[str, Division]:
    table = load_csv(f"divisions_{code}.csv")
    by_code: dict[str, Division] = {d.code: d for d in Division.objects.all()}
    order = {"province": 0, "prefecture": 1, "county": 2}
    for r in sorted(table.rows, key=lambda r: (order[r["level"]], r["code"])):
        if r["code"] in by_code:
            continue
        d = Division(
            code=r["code"],
            name=r["name"],
            level=r["level"],
            parent=by_code.get(r["parent_code"]),
            longitude=float(r["longitude"]) if r["longitude"] else None,
            latitude=float(r["latitude"]) if r["latitude"] else None,
            source=r["source"],
        )
        d.save()
        by_code[d.code] = d
    return by_code


def build(
    today: dt.date | None = None,
    *,
    units: int | None = None,
    months_limit: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Build the demo province. ``units``/``months_limit`` shrink it (for tests); ``progress`` is
    told each step as it starts (``dualcontrol demo`` prints them)."""
    say = progress or (lambda _msg: None)
    if not settings.DEMO_MODE:
        raise DemoRefused(
            "the demo province is only built in demo or test mode, never with production settings"
        )
    if Entity.objects.filter(is_synthetic=True).exists():
        raise DemoRefused("the demo province is already built")
    version, cfg = load_yaml("demo_yunnan.yaml")
    syn = cfg["synthetic"]
    rng = random.Random(syn["seed"])
    today = today or timezone.localdate()
    with transaction.atomic():
        say("catalogue and divisions")
        seed_catalogue()
        divisions = seed_divisions(cfg["province_code"])
        province = divisions[cfg["province_code"]]
        depts = [
            Department.objects.get_or_create(
                division=province, name=n, defaults={"source": cfg["departments_source"]}
            )[0]
            for n in cfg["departments"]
        ]
        prefectures = [d for d in divisions.values() if d.level == "prefecture"]
        for pref in prefectures:
            for n in cfg["prefecture_departments"]:
                Department.objects.get_or_create(
                    division=pref,
                    name=f"{pref.name}{n}",
                    defaults={"source": "platform demo: prefecture departments"},
                )
        counties: dict[str, list[Division]] = {}
        for d in divisions.values():
            if d.level == "county" and d.parent is not None:
                counties.setdefault(d.parent.code, []).append(d)
        industries = {i.code: i for i in Industry.objects.all()}
        products = {p.code: p for p in EnergyProduct.objects.all()}
        entities = _make_entities(
            rng, syn, units or int(syn["units"]), prefectures, counties, industries
        )
        periods = _periods(syn["periods"], today, months_limit)
        say(f"{len(entities)} synthetic units: monthly 205-1 reports")
        n_reports, n_lines = _make_reports(rng, syn, entities, periods, products, today)
        users = _make_users(province, depts, divisions, entities)
        extensions = _extend(today, say)
        say("a second province (issue 22)")
        second = _second_province(rng, syn, cfg, industries, products, periods, today)
        _enrol_demo_accounts()
        record(
            actor=None,
            action="demo.build",
            object_type="demo",
            object_repr=f"demo-yunnan {version}",
            after={
                "entities": len(entities),
                "reports": n_reports,
                "lines": n_lines,
                "users": users,
                "extensions": list(extensions),
                "second_province": second,
                "extension_seconds": extensions,
            },
        )
    # the roll-ups that the dashboards read, then the planner's statistics (issue 18)
    from dualcontrol.rollups.services import refresh

    say("roll-ups and database statistics")
    refresh()
    analyze()
    return DemoSummary(
        len(divisions), Department.objects.count(), len(entities), n_reports, n_lines
    )


def _enrol_demo_accounts() -> None:
    """Every demo account whose role must use the second factor gets its fixed demo secret,
    including those the apps' demo parts add (e.g. the tasks demo's department officer)."""
    from dualcontrol.accounts import second_factor

    for user in User.objects.filter(is_demo=True).order_by("username"):
        if second_factor.required_for(user) and second_factor.confirmed_device(user) is None:
            second_factor.enrol_demo_device(user)


def demo_usernames() -> list[str]:
    """The demo logins: the builder's own accounts first, then those the apps' demo parts add."""
    extra = User.objects.filter(is_demo=True).exclude(username__in=DEMO_USERS)
    present = set(User.objects.filter(username__in=DEMO_USERS).values_list("username", flat=True))
    return [u for u in DEMO_USERS if u in present] + sorted(
        extra.values_list("username", flat=True)
    )


def _second_province(
    rng: random.Random,
    syn: dict[str, Any],
    cfg: dict[str, Any],
    industries: dict[str, Industry],
    products: dict[str, EnergyProduct],
    periods: list[Any],
    today: dt.date,
) -> dict[str, Any]:
    """A second province beside the demo province (issue 22): real divisions from the shipped
    national table, synthetic units with their reports, and its own administrator. Built after
    every app's demo part, so none of them spreads Yunnan's data over it."""
    spec = cfg.get("second_province")
    if not spec:
        return {}
    from dualcontrol.commands.registry import shipped_divisions
    from dualcontrol.regions.services import import_divisions

    code = str(spec["code"])
    import_divisions(data=shipped_divisions(code), user=None)
    root = Division.objects.filter(code=code, parent__isnull=True).order_by("-valid_from").first()
    if root is None:
        return {}
    below = list(Division.objects.within(root).exclude(pk=root.pk))
    prefectures = [d for d in below if d.level == "prefecture"]
    counties: dict[str, list[Division]] = {}
    for d in below:
        if d.level == "county" and d.parent is not None:
            counties.setdefault(d.parent.code, []).append(d)
    prefectures = [p for p in prefectures if counties.get(p.code)]
    dept = Department.objects.get_or_create(
        division=root, name=str(spec["department"]), defaults={"source": spec["department_source"]}
    )[0]
    local = {**syn, "demo_city_code": str(spec["city_code"]), "prefecture_weights": {}}
    entities = _make_entities(rng, local, int(spec["units"]), prefectures, counties, industries)
    n_reports, _ = _make_reports(rng, syn, entities, periods, products, today)
    user = User(
        username=str(spec["admin"]),
        first_name=str(spec["admin_name"]),
        email=f"{spec['admin']}@demo.invalid",
        role=Role.PROVINCE_ADMIN,
        division=root,
        department=dept,
        is_demo=True,
    )
    user.set_password(DEMO_PASSWORD)
    user.save()
    return {"province": code, "units": len(entities), "reports": n_reports}


def _extend(today: dt.date, say: Callable[[str], None] = lambda _msg: None) -> dict[str, float]:
    """Let each capability app add its part of the demo: ``<app>.demo.extend_demo(today=...)``.

    Apps run in ``INSTALLED_APPS`` order, except that an app whose demo module names others in
    ``DEMO_AFTER`` runs after them. Returns the seconds each app took (``python -m benchmarks
    demo`` prints them).
    """
    import importlib
    import importlib.util
    import time

    modules = {}
    for app in settings.INSTALLED_APPS:
        if not app.startswith("dualcontrol.") or importlib.util.find_spec(f"{app}.demo") is None:
            continue
        module = importlib.import_module(f"{app}.demo")
        if getattr(module, "extend_demo", None) is not None:
            modules[app] = module
    seconds: dict[str, float] = {}

    def run(app: str, chain: tuple[str, ...]) -> None:
        if app in seconds:
            return
        if app in chain:
            raise ValueError(f"demo extensions depend on each other in a circle: {(*chain, app)}")
        for first in getattr(modules[app], "DEMO_AFTER", ()):
            if first in modules:
                run(first, (*chain, app))
        say(f"{app.rsplit('.', 1)[-1]}")
        started = time.perf_counter()
        modules[app].extend_demo(today=today)
        seconds[app] = round(time.perf_counter() - started, 3)

    for app in modules:
        run(app, ())
    return seconds


def _make_entities(
    rng: random.Random,
    syn: dict[str, Any],
    n: int,
    prefectures: list[Division],
    counties: dict[str, list[Division]],
    industries: dict[str, Industry],
) -> list[tuple[Entity, str, float]]:
    weights = syn["prefecture_weights"]
    pref_list = sorted(prefectures, key=lambda d: d.code)
    pref_w = [weights.get(d.code, 1) for d in pref_list]
    ind_codes = sorted(syn["industries"])
    ind_w = [syn["industries"][c][0] for c in ind_codes]
    out: list[tuple[Entity, str, float]] = []
    used: set[str] = set()
    for i in range(n):
        pref = rng.choices(pref_list, pref_w)[0]
        if i == 0:  # the demo enterprise user's unit sits in the demo city officer's region
            pref = next(d for d in pref_list if d.code == syn["demo_city_code"])
        county = rng.choice(counties[pref.code])
        code = rng.choices(ind_codes, ind_w)[0]
        median = syn["industries"][code][1]
        annual = max(5200.0, rng.lognormvariate(math.log(median), 0.6))
        body = "".join(rng.choice(USCC_CHARSET) for _ in range(9))
        uscc = make_uscc("91", county.code, body)
        base = f"{county.name}{rng.choice(NAME_WORDS)}{INDUSTRY_WORDS[code]}有限公司"
        name = base if base not in used else base.replace("有限公司", f"第{i}分公司")
        used.add(name)
        e = Entity(
            uscc=uscc,
            name=name,
            division=county,
            industry=industries[code],
            is_key_energy_unit=True,
            is_key_discharger=code in {"30", "31", "32", "26", "44", "22", "25"},
            annual_energy_tce=q(annual),
            online_monitoring=annual >= 10000,
            address=f"{pref.name}{county.name}",
            contact_name="（演示）",
            is_synthetic=True,
        )
        out.append((e, code, annual))
    Entity.objects.bulk_create([e for e, _, _ in out])
    saved = {e.uscc: e for e in Entity.objects.filter(is_synthetic=True)}
    return [(saved[e.uscc], code, annual) for e, code, annual in out]


def _periods(
    spec: list[list[int | None]], today: dt.date, months_limit: int | None
) -> list[tuple[int, int]]:
    last_y, last_m = latest_complete_month(today)
    out: list[tuple[int, int]] = []
    for y0, m0, y1, m1 in spec:
        assert y0 is not None and m0 is not None
        end = (y1 or last_y, m1 or last_m)
        y, m = y0, m0
        while (y, m) <= end:
            out.append((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out[-months_limit:] if months_limit else out


def _rows_for(
    rng: random.Random,
    syn: dict[str, Any],
    code: str,
    tce: float,
    products: dict[str, EnergyProduct],
    opening: dict[str, float],
) -> list[Row205]:
    mix = syn["industries"][code][2]
    raw_share = syn["industries"][code][3]
    prices = syn["price_yuan_per_unit"]
    rows = []
    for i, (pcode, share) in enumerate(sorted(mix.items())):
        p = products[pcode]
        qty = tce * share * rng.uniform(0.9, 1.1) / float(p.coefficient_tce_per_unit)
        consumption = round(qty, 2)
        non_ind = round(consumption * 0.03, 2)
        industrial = round(consumption - non_ind, 2)
        raw = round(industrial * raw_share, 2) if i == 0 else 0.0
        transport = round(consumption * 0.5, 2) if p.kind == "oil" else 0.0
        storable = p.kind in syn["storable_kinds"]
        open_ = opening.get(pcode, round(consumption * 0.4, 2)) if storable else 0.0
        purchases = (
            round(
                max(0.0, consumption * rng.uniform(0.85, 1.15) + (consumption * 0.4 - open_) * 0.5),
                2,
            )
            if storable
            else consumption
        )
        closing = round(open_ + purchases - consumption, 2)
        if closing < 0:
            purchases = round(purchases - closing, 2)
            closing = 0.0
        opening[pcode] = closing
        value_k = round(purchases * prices.get(pcode, 0) / 1000, 2)
        rows.append(
            Row205(
                product_code=pcode,
                unit=p.unit,
                product_name=p.name_zh,
                opening_stock=q(open_),
                purchases_qty=q(purchases),
                purchases_value_kyuan=q(value_k),
                consumption_total=q(industrial + non_ind),
                industrial_production=q(industrial),
                raw_material=q(raw),
                non_industrial=q(non_ind),
                transport=q(transport),
                closing_stock=q(closing),
            )
        )
    return rows


def _make_reports(
    rng: random.Random,
    syn: dict[str, Any],
    entities: list[tuple[Entity, str, float]],
    periods: list[tuple[int, int]],
    products: dict[str, EnergyProduct],
    today: dt.date,
) -> tuple[int, int]:
    growth = {int(k): v for k, v in syn["annual_growth_frac"].items()}
    province_code = entities[0][0].division.path.split("/")[0]
    last = periods[-1]
    reasons = syn["returned_reasons"]
    reports: list[EnergyReport] = []
    payloads: list[tuple[list[Row205], Any, str]] = []
    for entity, code, annual in entities:
        opening: dict[str, float] = {}
        for y, m in periods:
            era = max(k for k in growth if k <= y)
            trend = (1 + growth[era]) ** (y - era)
            season = 1 + 0.08 * math.sin((m - 3) / 12 * 2 * math.pi)
            tce = annual / 12 * trend * season * rng.uniform(0.92, 1.08)
            rows = _rows_for(rng, syn, code, tce, products, opening)
            status = Status.ACCEPTED
            if (y, m) == last:
                status = rng.choices(
                    [Status.SUBMITTED, Status.RETURNED, Status.DRAFT, Status.ACCEPTED],
                    [55, 10, 10, 25],
                )[0]
            reports.append(
                EnergyReport(
                    entity=entity,
                    period_type="monthly",
                    year=y,
                    month=m,
                    status=status,
                    current_revision=1,
                )
            )
            payloads.append((rows, None, rng.choice(reasons)))
    # account all reports of a year at once with the vectorised engine
    by_year: dict[int, list[int]] = {}
    for i, r in enumerate(reports):
        by_year.setdefault(r.year, []).append(i)
    for year, indexes in by_year.items():
        totals_of = account_many(
            [(i, payloads[i][0]) for i in indexes], products, year, province_code
        )
        for i in indexes:
            t = totals_of[i]
            reports[i].energy_tce, reports[i].energy_equiv_tce, reports[i].co2_t = (
                t.energy_tce,
                t.energy_equiv_tce,
                t.co2_t,
            )
            payloads[i] = (payloads[i][0], t, payloads[i][2])
    EnergyReport.objects.bulk_create(reports, batch_size=2000)
    # re-read ids in a DB-agnostic way
    ids = dict(
        ((r.entity_id, r.year, r.month), r.pk)
        for r in EnergyReport.objects.filter(entity__is_synthetic=True).only(
            "id", "entity_id", "year", "month"
        )
    )
    now = timezone.now()
    revisions = []
    for r, (_rows, totals, _) in zip(reports, payloads, strict=True):
        r.pk = ids[(r.entity_id, r.year, r.month)]
        revisions.append(
            ReportRevision(
                report_id=r.pk,
                number=1,
                source=Source.DEMO,
                energy_tce=totals.energy_tce,
                energy_equiv_tce=totals.energy_equiv_tce,
                co2_t=totals.co2_t,
                provenance=totals.provenance,
                submitted=None if r.status == Status.DRAFT else now,
            )
        )
    ReportRevision.objects.bulk_create(revisions, batch_size=2000)
    rev_ids = dict(
        ReportRevision.objects.filter(report__entity__is_synthetic=True).values_list(
            "report_id", "id"
        )
    )
    lines: list[ReportLine] = []
    events: list[ReportEvent] = []
    n_lines = 0
    for r, (rows, _, reason) in zip(reports, payloads, strict=True):
        rid = rev_ids[r.pk]
        for row in rows:
            lines.append(
                ReportLine(
                    revision_id=rid,
                    product=products[row.product_code],
                    unit=row.unit,
                    coefficient_used=row.coefficient_used,
                    **{f: getattr(row, f) for f in QUANTITY_FIELDS},
                )
            )
        events.append(ReportEvent(report_id=r.pk, revision=1, action="saved"))
        if r.status != Status.DRAFT:
            events.append(ReportEvent(report_id=r.pk, revision=1, action="submitted"))
        if r.status == Status.ACCEPTED:
            events.append(ReportEvent(report_id=r.pk, revision=1, action="accepted"))
        if r.status == Status.RETURNED:
            events.append(ReportEvent(report_id=r.pk, revision=1, action="returned", reason=reason))
        if len(lines) >= 20000:
            ReportLine.objects.bulk_create(lines, batch_size=5000)
            n_lines += len(lines)
            lines = []
    ReportLine.objects.bulk_create(lines, batch_size=5000)
    n_lines += len(lines)
    ReportEvent.objects.bulk_create(events, batch_size=5000)
    return len(reports), n_lines


def _make_users(
    province: Division,
    depts: list[Department],
    divisions: dict[str, Division],
    entities: list[tuple[Entity, str, float]],
) -> int:
    kunming = next(d for d in divisions.values() if d.code == "530100")
    own = next(e for e, _, _ in entities if e.division.path.startswith(kunming.path))
    specs = [
        (
            "demo-province",
            "省发展改革委（演示）",
            Role.PROVINCE_ADMIN,
            dict(department=depts[0], division=province),
        ),
        ("demo-city", "昆明市发展改革委（演示）", Role.CITY_OFFICER, dict(division=kunming)),
        ("demo-enterprise", "能源管理负责人（演示）", Role.ENTERPRISE, dict(entity=own)),
        ("demo-verifier", "第三方核查机构（演示）", Role.VERIFIER, {}),
        # separated duties (等保 2.0 三员): none of them reads or writes the province's data
        (
            "demo-sysadmin",
            "系统管理员（演示）",
            Role.SYSTEM_ADMIN,
            dict(is_staff=True, is_superuser=True),
        ),
        ("demo-security", "安全管理员（演示）", Role.SECURITY_ADMIN, dict(is_staff=True)),
        ("demo-auditor", "安全审计员（演示）", Role.AUDITOR, {}),
    ]
    for username, first, role, extra in specs:
        user = User(
            username=username,
            first_name=first,
            email=f"{username}@demo.invalid",  # RFC 2606: never deliverable
            role=role,
            is_demo=True,
            **extra,
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        if second_factor.required_for(user):
            # a fixed secret per account, printed by `dualcontrol demo` (demo accounts only)
            second_factor.enrol_demo_device(user)
        if role == Role.VERIFIER:
            user.assigned_entities.set([e for e, _, _ in entities[:5]])
        if role == Role.SECURITY_ADMIN:
            # sees and clears login locks (accounts.lockout)
            from dualcontrol.accounts.lockout import security_group

            user.groups.add(security_group())
    return len(specs)
