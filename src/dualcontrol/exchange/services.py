"""Export and import of exchange packages (the only code that writes peers and the package log).

* **Identity**: this platform is its root division (the province 530000 in the demo; a city
  platform's root is its prefecture); ``000000`` is the national level.  Its Ed25519 signing key
  lives in ``DATA_DIR/exchange/ed25519.pem`` (mode 0600), made by :func:`ensure_key`.
* **Export** (:func:`export_package`): the data the higher level needs — regional statistics and
  derived indicators, targets and their decomposition, assessment results, key-unit lists and
  status reports, carbon-market emitters and compliance, monitoring summaries — or, downward,
  targets and rule sets; signed, numbered per recipient, logged.
* **Import** (:func:`import_package`): the JSON schema, then :func:`core.exchange.verify` (recipient,
  known sender, its key, the signature) and :func:`core.exchange.check_seen` (duplicate → nothing
  changes; replayed or altered → refused).  A refused package changes nothing but the log, with the
  reason.  Downward packages create the targets they carry (idempotent by indicator, division and
  period); upward packages are kept for the receiving level's review.
"""

from __future__ import annotations

import json
import os
import uuid
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from dualcontrol.audit.services import record
from dualcontrol.core import exchange as core
from dualcontrol.exchange.models import Direction, Level, Outcome, PackageRecord, Peer
from dualcontrol.reference import load_json
from dualcontrol.regions.models import Division

SCHEMA_FILE = "exchange_package_v1.schema.json"
NATIONAL = "000000"


# ----------------------------------------------------------------------------- identity, keys


def key_path() -> Path:
    return Path(settings.DATA_DIR) / "exchange" / "ed25519.pem"


def ensure_key() -> core.KeyPair:
    """This platform's signing key, made on first use (the private key never leaves DATA_DIR)."""
    path = key_path()
    if path.exists():
        return core.load_private(path.read_bytes())
    keys = core.new_keypair()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(keys.private_pem)
    record(
        actor=None,
        action="exchange.key.create",
        object_type="exchange.key",
        object_repr=keys.key_id,
        after={"key_id": keys.key_id},
    )
    return keys


def identity() -> dict[str, str]:
    """This platform as a party: its root division's code, level and name."""
    roots = Division.objects.filter(parent__isnull=True).order_by("code", "-valid_from")
    codes = sorted(set(roots.values_list("code", flat=True)))
    wanted = getattr(settings, "EXCHANGE_IDENTITY", "")
    if len(codes) > 1 and wanted in codes:
        root = roots.filter(code=wanted).first()
    elif len(codes) > 1:
        raise ValidationError(
            [
                f"本平台有多个省份（{'、'.join(codes)}）："
                "请以 DUALCONTROL_EXCHANGE_IDENTITY 指定以哪个省份交换"
            ]
        )
    else:
        root = roots.first()
    if root is None:
        raise ValidationError(["本平台尚未导入行政区划，无法确定交换身份"])
    level = Level.PROVINCE if root.level == "province" else Level.CITY
    return {"code": root.code, "level": str(level), "name": root.name}


def add_peer(
    *, code: str, name: str, level: str, public_key: str, url: str = "", user: Any = None
) -> Peer:
    problems = []
    if not (len(code) == 6 and code.isdigit()):
        problems.append(f"区划代码 {code!r} 应为6位数字（国家级为 000000）")
    if level not in Level.values:
        problems.append(f"层级 {level!r} 无效")
    try:
        raw = core.public_key_from_b64(public_key)
    except ValueError as exc:
        problems.append(f"公钥无效：{exc}")
        raw = b""
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        peer, created = Peer.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "level": level,
                "public_key": public_key.strip(),
                "key_id": core.key_id(raw),
                "url": url,
                "active": True,
            },
        )
        record(
            actor=user,
            action="exchange.peer.add" if created else "exchange.peer.update",
            obj=peer,
            after={"code": code, "level": level, "key_id": peer.key_id},
        )
    return peer


# ----------------------------------------------------------------------------- export


def _d(value: Any) -> str | None:
    if value is None:
        return None
    return format(Decimal(value).normalize(), "f")


def _within(root: Division) -> Any:
    return Division.objects.within(root)


def collect(*, year: int, direction: str, recipient: Peer | None) -> dict[str, list[Any]]:
    """The contents for ``year``: upward everything the higher level needs, downward targets."""
    from dualcontrol.targets.models import RegionalStatistic, Target

    me = identity()
    root = Division.objects.get(code=me["code"], parent__isnull=True)
    divisions = _within(root)
    contents: dict[str, list[Any]] = {}
    if direction == "down":
        below = Division.objects.filter(code=recipient.code).first() if recipient else None
        scope = Division.objects.within(below) if below is not None else divisions.none()
        contents["targets"] = [
            _target(t)
            for t in Target.objects.filter(
                division__in=scope, end_year__gte=year, entity__isnull=True
            ).select_related("division", "parent__division")
        ]
        contents["rule_sets"] = _rule_sets()
        return contents
    stats = RegionalStatistic.objects.filter(year=year, division__in=divisions).select_related(
        "division", "industry"
    )
    contents["regional_statistics"] = [
        {
            "division": s.division.code,
            "industry": s.industry.code if s.industry_id else None,
            "year": s.year,
            "month": s.month,
            "energy_tce": _d(s.energy_tce),
            "gdp_10k_yuan": _d(s.gdp_10k_yuan),
            "gdp_real_growth_pct": _d(s.gdp_real_growth_pct),
            "derived": s.derived or {},
            "source": s.source,
        }
        for s in stats
    ]
    contents["targets"] = [
        _target(t)
        for t in Target.objects.filter(
            division__in=divisions, entity__isnull=True, base_year__lte=year, end_year__gte=year
        ).select_related("division", "parent__division")
    ]
    contents["assessment_results"] = _assessment(year, divisions)
    contents["key_units"], contents["key_unit_reports"] = _key_units(year, divisions)
    contents["carbon_emitters"] = _emitters(year, divisions)
    contents["monitoring_summaries"] = _monitoring(year, divisions)
    return contents


def _target(t: Any) -> dict[str, Any]:
    return {
        "indicator": t.indicator,
        "division": t.division.code,
        "parent_division": t.parent.division.code if t.parent_id and t.parent.division_id else None,
        "period_kind": t.period_kind,
        "base_year": t.base_year,
        "end_year": t.end_year,
        "base_value": _d(t.base_value),
        "incentive_value": _d(t.incentive_value),
        "unit": t.unit,
        "source_document": t.source_document,
    }


def _assessment(year: int, divisions: Any) -> list[dict[str, Any]]:
    from dualcontrol.assessment.models import AssessmentRecord

    rows = AssessmentRecord.objects.filter(
        round__year=year, division__in=divisions, signed_off_at__isnull=False
    ).select_related("round", "division")
    return [
        {
            "division": r.division.code,
            "year": r.round.year,
            "round": r.round.title,
            "score": _d(r.total_score),
            "grade": r.grade_name or None,
            "vetoed": bool(r.vetoed),
        }
        for r in rows
    ]


def _key_units(year: int, divisions: Any) -> tuple[list[Any], list[Any]]:
    from dualcontrol.keyunits.models import Designation, StatusReport

    listed = Designation.objects.filter(
        year=year, status="confirmed", entity__division__in=divisions
    ).select_related("entity", "entity__division", "entity__industry")
    units = [
        {
            "uscc": d.entity.uscc,
            "name": d.entity.name,
            "division": d.entity.division.code,
            "industry": d.entity.industry.code if d.entity.industry_id else None,
            "year": d.year,
            "tier": d.tier,
            "energy_tce": _d(d.basis_energy_tce),
        }
        for d in listed
    ]
    reports = [
        {
            "uscc": r.entity.uscc,
            "year": r.year,
            "energy_tce": _d(r.energy_tce),
            "savings_tce": _d(r.savings_tce),
        }
        for r in StatusReport.objects.filter(
            year=year, status="accepted", entity__division__in=divisions
        ).select_related("entity")
    ]
    return units, reports


def _emitters(year: int, divisions: Any) -> list[dict[str, Any]]:
    from dualcontrol.carbonmarket import services as cm
    from dualcontrol.carbonmarket.models import EmissionReport, Emitter

    listed = Emitter.objects.filter(
        year=year, status="listed", entity__division__in=divisions
    ).select_related("entity")
    verified = dict(
        EmissionReport.objects.filter(year=year, status="accepted").values_list(
            "entity_id", "verified_co2e_t"
        )
    )
    rows = {r["entity"].pk: r["row"] for r in cm.compliance_table(year) if r["entity"]}
    out = []
    for e in listed:
        row = rows.get(e.entity_id)
        out.append(
            {
                "uscc": e.entity.uscc,
                "name": e.entity.name,
                "year": year,
                "sector": e.sector,
                "verified_co2e_t": _d(verified.get(e.entity_id)),
                "obligation_t": _d(row.obligation) if row else None,
                "surrendered_t": _d(row.surrendered) if row else None,
                "status": row.status if row else None,
            }
        )
    return out


def _monitoring(year: int, divisions: Any) -> list[dict[str, Any]]:
    from dualcontrol.monitoring.models import Alarm

    rows = (
        Alarm.objects.filter(started_at__year=year, outlet__entity__division__in=divisions)
        .exclude(code="")
        .values("outlet__entity__division__code", "code")
        .annotate(alarms=Count("pk"), outlets=Count("outlet", distinct=True))
        .order_by("outlet__entity__division__code", "code")
    )
    return [
        {
            "division": r["outlet__entity__division__code"],
            "year": year,
            "pollutant": r["code"],
            "outlets": r["outlets"],
            "alarms": r["alarms"],
        }
        for r in rows
    ]


def _next_sequence(recipient_code: str) -> int:
    last = PackageRecord.objects.filter(
        direction=Direction.OUT, recipient_code=recipient_code, outcome=Outcome.EXPORTED
    ).aggregate(m=Max("sequence"))["m"]
    return int(last or 0) + 1


def export_package(*, to: str, year: int, user: Any = None) -> tuple[bytes, PackageRecord]:
    """Build, sign and log a package for peer ``to`` (a code, or ``national``)."""
    code = NATIONAL if to == "national" else to
    peer = Peer.objects.filter(code=code, active=True).first()
    if peer is None:
        raise ValidationError([f"交换对象 {to} 未登记（dualcontrol exchange peers add）"])
    if not 2000 <= year <= 2100:
        raise ValidationError([f"年度 {year} 无效"])
    me = identity()
    order = ["national", "province", "city"]
    direction = "up" if order.index(peer.level) < order.index(me["level"]) else "down"
    keys = ensure_key()
    with transaction.atomic():
        contents = collect(year=year, direction=direction, recipient=peer)
        package = {
            "format": core.FORMAT,
            "version": core.VERSION,
            "package_id": str(uuid.uuid4()),
            "sender": me,
            "recipient": {"code": peer.code, "level": peer.level, "name": peer.name},
            "direction": direction,
            "sequence": _next_sequence(peer.code),
            "created_at": timezone.localtime().isoformat(timespec="seconds"),
            "period": {"year": year},
            "contents": contents,
            "counts": {k: len(v) for k, v in contents.items()},
        }
        signed = core.sign(package, keys)
        problems = schema_problems(signed)
        if problems:  # our own export must satisfy the schema we publish
            raise ValidationError(problems)
        data = json.dumps(signed, ensure_ascii=False, indent=1).encode("utf-8")
        rec = PackageRecord.objects.create(
            direction=Direction.OUT,
            package_id=package["package_id"],
            sender_code=me["code"],
            recipient_code=peer.code,
            sequence=package["sequence"],
            year=year,
            sha256=core.digest(signed),
            outcome=Outcome.EXPORTED,
            counts=package["counts"],
            size_bytes=len(data),
            user=user if getattr(user, "pk", None) else None,
        )
        record(actor=user, action="exchange.export", obj=rec, after=package["counts"])
    return data, rec


# ----------------------------------------------------------------------------- import

REFUSAL_ZH = {
    "format": "格式或版本不符",
    "recipient": "接收方不是本平台",
    "sender": "发出方不是已登记的交换对象，或层级不符",
    "signature": "签名与内容不符：交换包在签名后被改动，或并非由发出方签名",
    "replay": "重放或改动：此前已导入同编号的其他内容，或序号不大于已导入的最大序号",
}


def refusal_text(exc: core.PackageRefused) -> str:
    """The core's reason with a Chinese summary in front (the English detail kept for support)."""
    zh = REFUSAL_ZH.get(exc.code)
    return f"{zh}（{exc}）" if zh else str(exc)


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator, FormatChecker

    _version, schema = load_json(SCHEMA_FILE)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def schema_problems(package: Any) -> list[str]:
    """Every schema violation, each with its JSON path."""
    errors = sorted(_validator().iter_errors(package), key=lambda e: list(e.absolute_path))
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(package)'}: {e.message}"
        for e in errors[:50]
    ]


def _refuse(*, reason: str, package: Any, data: bytes, user: Any) -> PackageRecord:
    env = package if isinstance(package, dict) else {}
    rec = PackageRecord.objects.create(
        direction=Direction.IN,
        package_id=str(env.get("package_id", ""))[:36],
        sender_code=str((env.get("sender") or {}).get("code", ""))[:6]
        if isinstance(env.get("sender"), dict)
        else "",
        recipient_code=str((env.get("recipient") or {}).get("code", ""))[:6]
        if isinstance(env.get("recipient"), dict)
        else "",
        sequence=env.get("sequence") if isinstance(env.get("sequence"), int) else None,
        outcome=Outcome.REFUSED,
        reason=reason,
        size_bytes=len(data),
        user=user if getattr(user, "pk", None) else None,
    )
    record(actor=user, action="exchange.import.refused", obj=rec, note=reason)
    return rec


def import_package(*, data: bytes, user: Any = None) -> PackageRecord:
    """Verify and apply one package; returns its log record (outcome imported, duplicate or
    refused — a refused package changes nothing else)."""
    try:
        text = data.decode("utf-8-sig")
        package = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return _refuse(reason=f"不是 UTF-8 JSON：{exc}", package=None, data=data, user=user)
    problems = schema_problems(package)
    if problems:
        return _refuse(
            reason="不符合交换包格式（版本1）：" + "；".join(problems),
            package=package,
            data=data,
            user=user,
        )
    me = identity()
    peers = {
        p.code: core.Peer(p.code, p.level, core.public_key_from_b64(p.public_key))
        for p in Peer.objects.filter(active=True)
    }
    with transaction.atomic():
        try:
            sender = core.verify(package, own_code=me["code"], peers=peers)
            seen = (
                PackageRecord.objects.select_for_update()
                .filter(
                    direction=Direction.IN,
                    package_id=package["package_id"],
                    outcome=Outcome.IMPORTED,
                )
                .first()
            )
            last = PackageRecord.objects.filter(
                direction=Direction.IN, sender_code=sender.code, outcome=Outcome.IMPORTED
            ).aggregate(m=Max("sequence"))["m"]
            verdict = core.check_seen(
                package, seen_digest=seen.sha256 if seen else None, last_sequence=last
            )
        except core.PackageRefused as exc:
            refused = _refuse(reason=refusal_text(exc), package=package, data=data, user=user)
        else:
            refused = None
        if refused is not None:
            return refused
        if verdict == "duplicate":
            assert seen is not None
            dup = PackageRecord.objects.create(
                direction=Direction.IN,
                package_id=package["package_id"],
                sender_code=sender.code,
                recipient_code=me["code"],
                sequence=package["sequence"],
                year=package["period"]["year"],
                sha256=seen.sha256,
                outcome=Outcome.DUPLICATE,
                reason=f"已于 {timezone.localtime(seen.at):%Y-%m-%d %H:%M} 导入，本次未改动任何数据",
                size_bytes=len(data),
                user=user if getattr(user, "pk", None) else None,
            )
            record(actor=user, action="exchange.import.duplicate", obj=dup)
            return dup
        try:
            with transaction.atomic():
                applied = _apply(package, user=user)
        except ValidationError as exc:
            return _refuse(
                reason="内容无法导入，整包拒收：" + "；".join(exc.messages),
                package=package,
                data=data,
                user=user,
            )
        rec = PackageRecord.objects.create(
            direction=Direction.IN,
            package_id=package["package_id"],
            sender_code=sender.code,
            recipient_code=me["code"],
            sequence=package["sequence"],
            year=package["period"]["year"],
            sha256=core.digest(package),
            outcome=Outcome.IMPORTED,
            counts=package["counts"],
            contents=package["contents"] if package["direction"] == "up" else {},
            applied=applied,
            size_bytes=len(data),
            user=user if getattr(user, "pk", None) else None,
        )
        record(actor=user, action="exchange.import", obj=rec, after=applied)
    return rec


def _rule_sets() -> list[dict[str, Any]]:
    """The warning rule sets in use, as the level below receives them."""
    from dualcontrol.targets.models import WarningRuleSet

    return [
        {
            "kind": "warning",
            "code": rs.name,
            "name": rs.title_zh,
            "version": rs.version,
            "definition": rs.definition,
            "source": rs.source,
        }
        for rs in WarningRuleSet.objects.filter(active=True).order_by("name")
    ]


def _apply_rule_sets(package: dict[str, Any], *, user: Any) -> dict[str, int]:
    """The warning rule sets from above: each is checked as the platform checks its own
    (``rule_set_from_mapping``) before any is stored — one bad rule set refuses the whole package;
    a rule set already held in the same version is left as it is; a new version replaces the
    definition (audited with before and after)."""
    from dualcontrol.reference import ReferenceDataError
    from dualcontrol.reference.warning_rules import rule_set_from_mapping
    from dualcontrol.targets.models import WarningRuleSet

    items = package["contents"].get("rule_sets", [])
    for rs in items:
        if rs["kind"] != "warning":
            raise ValidationError([f"规则集 {rs['code']}：本平台不认识的类别 {rs['kind']}"])
        try:
            rule_set_from_mapping(rs["definition"], version=rs["version"], where=rs["code"])
        except ReferenceDataError as exc:
            raise ValidationError([f"规则集 {rs['code']}：{exc}"]) from exc
    counts = {"rule_sets_created": 0, "rule_sets_updated": 0, "rule_sets_existing": 0}
    origin = f"（上级平台交换包 {package['package_id']}）"
    for rs in items:
        found = WarningRuleSet.objects.filter(name=rs["code"]).first()
        if found is not None and found.version == rs["version"]:
            counts["rule_sets_existing"] += 1
            continue
        if found is None:
            found = WarningRuleSet.objects.create(
                name=rs["code"],
                title_zh=rs.get("name") or rs["code"],
                source=(rs.get("source") or "") + origin,
                definition=rs["definition"],
                version=rs["version"],
            )
            record(
                actor=user,
                action="exchange.rule_set.create",
                obj=found,
                after={"version": found.version, "package": package["package_id"]},
            )
            counts["rule_sets_created"] += 1
            continue
        before = {"version": found.version}
        found.definition = rs["definition"]
        found.version = rs["version"]
        found.source = (rs.get("source") or found.source) + origin
        found.save(update_fields=["definition", "version", "source", "updated"])
        record(
            actor=user,
            action="exchange.rule_set.update",
            obj=found,
            before=before,
            after={"version": found.version, "package": package["package_id"]},
        )
        counts["rule_sets_updated"] += 1
    return counts


def _apply(package: dict[str, Any], *, user: Any) -> dict[str, Any]:
    """Downward: the rule sets and the targets (idempotent); upward: kept in the log for review."""
    if package["direction"] != "down":
        return {"kept_for_review": package["counts"]}
    rule_set_counts = _apply_rule_sets(package, user=user)
    from dualcontrol.targets import services as target_services
    from dualcontrol.targets.models import Target

    created = existing = skipped = 0
    notes: list[str] = []
    for t in package["contents"].get("targets", []):
        division = Division.objects.filter(code=t["division"]).first()
        if division is None:
            skipped += 1
            notes.append(f"{t['indicator']} {t['division']}: 本平台无此地区")
            continue
        found = Target.objects.filter(
            indicator=t["indicator"],
            division=division,
            entity__isnull=True,
            base_year=t["base_year"],
            end_year=t["end_year"],
        ).exists()
        if found:
            existing += 1
            continue
        try:
            target_services.create_target(
                user=user,
                system=True,
                indicator=t["indicator"],
                division=division,
                period_kind=t.get("period_kind") or "five_year",
                base_year=t["base_year"],
                end_year=t["end_year"],
                base_value=Decimal(t["base_value"]),
                incentive_value=Decimal(t["incentive_value"])
                if t.get("incentive_value") is not None
                else None,
                unit=t.get("unit", ""),
                source_document=(
                    f"{t.get('source_document') or ''}（上级平台交换包 {package['package_id']}）"
                )[:500],
            )
            created += 1
        except Exception as exc:
            raise ValidationError([f"{t['indicator']} {t['division']}: {exc}"]) from exc
    return {
        "targets_created": created,
        "targets_existing": existing,
        "skipped": skipped,
        "notes": notes,
        **rule_set_counts,
    }
