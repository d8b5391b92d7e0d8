"""目标责任书 (responsibility letters): generated from the targets, recorded as signed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dualcontrol.access.targets import is_province, visible_targets
from dualcontrol.audit.services import record, snapshot
from dualcontrol.regions.models import Division
from dualcontrol.targets.errors import NotAllowed, TargetError
from dualcontrol.targets.models import (
    LetterStatus,
    ResponsibilityLetter,
    Target,
    TargetStatus,
    letter_title,
)

CLAUSES = (
    gettext_lazy("责任方按本责任书所列目标组织实施节能减排工作，目标完成情况纳入年度考核评价。"),
    gettext_lazy(
        "责任方按月报送能源消费与生产总值数据，对数据真实性负责；"
        "下达方按月（季）发布目标完成情况晴雨表。"
    ),
    gettext_lazy(
        "对晴雨表预警为红色的地区，下达方按预警规则所附措施（如暂停新上项目节能审查）处理。"
    ),
    gettext_lazy("本责任书一式两份，下达方与责任方各执一份，自签订之日起生效，至目标年末止。"),
)


def _letter_content(
    holder: Any, issuer: Division, targets: Sequence[Target], base: int, end: int
) -> dict[str, Any]:
    """The letter as written (and hashed): always in the platform's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return {
            "title": letter_title(holder.name, base, end),
            "issuer": issuer.name,
            "issuer_code": issuer.code,
            "party": holder.name,
            "party_code": getattr(holder, "code", "") or getattr(holder, "uscc", ""),
            "period": [base, end],
            "targets": [
                {
                    "id": t.pk,
                    "indicator": t.indicator,
                    "indicator_name": str(t.get_indicator_display()),
                    "period": t.period_label,
                    "period_kind": str(t.get_period_kind_display()),
                    "base_value": _plain(t.base_value),
                    "incentive_value": _plain(t.incentive_value),
                    "unit": t.unit,
                    "base_level": _plain(t.base_level),
                    "source_document": t.source_document,
                    "industry": t.industry.name if t.industry_id else "",
                }
                for t in targets
            ],
            "clauses": [str(c) for c in CLAUSES],
        }


def letter_display(letter: ResponsibilityLetter) -> dict[str, Any]:
    """The letter's content for the page in the active language: the generated texts (title,
    indicator names, period kinds, clauses) through the catalogue; names and figures as stored.
    The stored content and its digest are never changed."""
    content = dict(letter.content or {})
    content["title"] = letter.title_label
    content["targets"] = [
        {
            **t,
            "indicator_name": _(t["indicator_name"]) if t.get("indicator_name") else "",
            "period_kind": _(t["period_kind"]) if t.get("period_kind") else "",
        }
        for t in content.get("targets", [])
    ]
    content["clauses"] = [_(c) for c in content.get("clauses", []) if c]
    return content


def _plain(value: Decimal | None) -> str | None:
    """15.0000 → "15", 13.5000 → "13.5" (as printed in the letter)."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


def _digest(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def generate_letter(
    *,
    target: Target,
    user: Any,
    is_synthetic: bool = False,
    system: bool = False,
    issued_on: dt.date | None = None,
) -> ResponsibilityLetter:
    """目标责任书: every issued target of the target's region (or unit) for its period."""
    if not system and not visible_targets(user).filter(pk=target.pk).exists():
        raise NotAllowed(_("无权查看该目标"))
    holder: Any = target.entity if target.entity_id else target.division
    holder_div = target.holder_division
    issuer = holder_div if target.entity_id else holder_div.parent
    if issuer is None:
        raise TargetError(_("省级目标由国家下达，本平台不生成省级责任书"))
    # who may issue: the issuer's officers (province staff, or the city officer for its counties)
    if (
        not system
        and not is_province(user)
        and not (getattr(user, "division_id", None) and issuer.path.startswith(user.division.path))
    ):
        raise NotAllowed(_("只有下达方可以生成责任书"))
    qs = Target.objects.filter(base_year=target.base_year, end_year=target.end_year).exclude(
        status=TargetStatus.DRAFT
    )
    qs = (
        qs.filter(entity=target.entity)
        if target.entity_id
        else qs.filter(division=target.division, entity__isnull=True)
    )
    targets = list(qs.select_related("industry").order_by("indicator", "industry__code", "id"))
    content = _letter_content(holder, issuer, targets, target.base_year, target.end_year)
    with transaction.atomic():
        seq = ResponsibilityLetter.objects.filter(issuer=issuer).count() + 1
        prefix = issuer.name[:2]
        year = (issued_on or timezone.localdate()).year
        number = f"{prefix}目标责〔{year}〕{seq}号"
        while ResponsibilityLetter.objects.filter(number=number).exists():
            seq += 1
            number = f"{prefix}目标责〔{year}〕{seq}号"
        letter = ResponsibilityLetter.objects.create(
            number=number,
            title=content["title"],
            division=None if target.entity_id else target.division,
            entity=target.entity if target.entity_id else None,
            issuer=issuer,
            base_year=target.base_year,
            end_year=target.end_year,
            content=content,
            content_sha256=_digest(content),
            generated_by=user if getattr(user, "is_authenticated", False) else None,
            is_synthetic=is_synthetic,
        )
        letter.targets.set(targets)
        record(
            actor=user,
            action="letter.generate",
            obj=letter,
            after={
                "number": number,
                "targets": [t.pk for t in targets],
                "sha256": letter.content_sha256,
            },
        )
    return letter


def sign_letter(
    *,
    letter: ResponsibilityLetter,
    user: Any,
    signed_on: dt.date,
    issuer_signatory: str,
    party_signatory: str,
    system: bool = False,
) -> ResponsibilityLetter:
    """Record that the printed letter was signed (the targets become 已签订)."""
    if letter.status == LetterStatus.SIGNED:
        raise TargetError(_("责任书已签订"))
    if (
        not system
        and not is_province(user)
        and not (
            getattr(user, "division_id", None) and letter.issuer.path.startswith(user.division.path)
        )
    ):
        raise NotAllowed(_("只有下达方可以登记签订"))
    if not issuer_signatory.strip() or not party_signatory.strip():
        raise TargetError(_("请填写双方签字人"))
    if signed_on > timezone.localdate():
        raise TargetError(_("签订日期不能晚于今天"))
    targets = list(letter.targets.select_related("industry", "division", "entity"))
    holder: Any = letter.entity if letter.entity_id else letter.division
    current = _letter_content(holder, letter.issuer, targets, letter.base_year, letter.end_year)
    if _digest(current) != letter.content_sha256:
        raise TargetError(_("责任书生成后目标已修改，请重新生成后再签订"))
    before = snapshot(letter, ["status"])
    with transaction.atomic():
        letter.status = LetterStatus.SIGNED
        letter.signed_on = signed_on
        letter.issuer_signatory = issuer_signatory.strip()
        letter.party_signatory = party_signatory.strip()
        letter.signed_recorded_by = user if getattr(user, "is_authenticated", False) else None
        letter.signed_recorded_at = timezone.now()
        letter.save()
        Target.objects.filter(pk__in=[t.pk for t in targets]).update(status=TargetStatus.SIGNED)
        record(
            actor=user,
            action="letter.sign",
            obj=letter,
            before=before,
            after=snapshot(letter, ["status", "signed_on", "issuer_signatory", "party_signatory"]),
        )
    return letter
