"""Who may see and do what in the assessment — the gates are the ``assessment.*`` rules of :mod:`dualcontrol.access.rules`.

- province administrator / officer: every round; create rounds, score, sign off, re-open,
  close consequences, record interviews;
- city officer: the rounds its own region is assessed in (its own record only: fills the
  self-assessment, uploads evidence, answers consequences) and the rounds its region runs for
  the counties below it (as the assessor: everything the province does there);
- enterprise: its own unit's records, consequences (e.g. the mandatory-audit notice) and credit
  record; answers its consequences;
- verifier: records of its assigned units (read-only) and records the certified saving of those
  units in enterprise rounds;
- public: nothing here (published results are in the publishing app).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from dualcontrol.access.scope import (
    PROVINCE_ROLES,
    REGION_ROLES,
    in_region,
    in_user_region,
    region_root,
    role_of,
    visible_entities,
)
from dualcontrol.accounts.models import Role
from dualcontrol.assessment.models import (
    AssessmentRecord,
    AssessmentRound,
    Consequence,
    CreditRecord,
)
from dualcontrol.regions.models import Division


def _division_path(user: Any) -> str | None:
    return user.division.path if getattr(user, "division_id", None) else None


def is_province(user: Any) -> bool:
    return role_of(user) in PROVINCE_ROLES


def assessor_rounds(user: Any) -> QuerySet[AssessmentRound]:
    """Rounds the user runs (scores, signs off): province staff all, a city its own."""
    from dualcontrol.access.duties import SCORE_ASSESSMENT, has_duty

    role = role_of(user)
    if role in PROVINCE_ROLES:
        # separated duties: only departments that score (duties.yaml) run the province's rounds
        if has_duty(user, SCORE_ASSESSMENT):
            return in_region(AssessmentRound.objects.all(), user, "assessor")
        return AssessmentRound.objects.none()
    if role == Role.CITY_OFFICER and user.division_id:
        return AssessmentRound.objects.filter(assessor_id=user.division_id)
    return AssessmentRound.objects.none()


def default_assessor(user: Any) -> Division | None:
    """Who runs a round the user opens: a city officer's own region, else the province."""
    if role_of(user) == Role.CITY_OFFICER and user.division_id:
        return user.division  # type: ignore[no-any-return]
    if role_of(user) in REGION_ROLES:
        return region_root(user)
    # a role that opens no round: the first province, so that the service refuses the user (not
    # the missing assessor)
    return Division.objects.filter(parent__isnull=True).order_by("code").first()


def can_open_round(user: Any, assessor: Division) -> bool:
    """Open a round: a province department that scores (duties.yaml), or a city for its own
    region's round of the counties below it."""
    from dualcontrol.access.duties import SCORE_ASSESSMENT, has_duty

    role = role_of(user)
    if role in PROVINCE_ROLES:
        return has_duty(user, SCORE_ASSESSMENT) and in_user_region(user, assessor)
    return role == Role.CITY_OFFICER and user.division_id == assessor.pk


def visible_records(user: Any) -> QuerySet[AssessmentRecord]:
    role = role_of(user)
    qs = AssessmentRecord.objects.select_related("round", "division", "entity")
    if role in REGION_ROLES:
        return in_region(qs, user, "round__assessor")
    if role == Role.CITY_OFFICER and user.division_id:
        return qs.filter(Q(round__assessor_id=user.division_id) | Q(division_id=user.division_id))
    if role in (Role.ENTERPRISE, Role.VERIFIER):
        return qs.filter(entity__in=visible_entities(user))
    return qs.none()


def visible_rounds(user: Any) -> QuerySet[AssessmentRound]:
    if role_of(user) in REGION_ROLES:
        return in_region(AssessmentRound.objects.all(), user, "assessor")
    ids = visible_records(user).values("round_id")
    return AssessmentRound.objects.filter(Q(pk__in=ids) | Q(pk__in=assessor_rounds(user)))


def can_assess(user: Any, record: AssessmentRecord) -> bool:
    """Score, sign off, re-open: the round's assessor."""
    return assessor_rounds(user).filter(pk=record.round_id).exists()


def can_self_assess(user: Any, record: AssessmentRecord) -> bool:
    """Fill the self-assessment: the assessed government's officer, or the unit's reporter."""
    role = role_of(user)
    if record.division_id:
        return role == Role.CITY_OFFICER and user.division_id == record.division_id
    return role == Role.ENTERPRISE and user.entity_id == record.entity_id


def can_certify(user: Any, record: AssessmentRecord) -> bool:
    """Record the certified energy saving of a unit: the assessor or the unit's verifier."""
    if not record.entity_id:
        return False
    if can_assess(user, record):
        return True
    return (
        role_of(user) == Role.VERIFIER
        and visible_entities(user).filter(pk=record.entity_id).exists()
    )


def own_self_assessments(user: Any) -> QuerySet[AssessmentRecord]:
    """Records the user must fill in (:func:`can_self_assess`) that are still at that stage."""
    from dualcontrol.assessment.models import RecordStatus

    qs = visible_records(user).filter(status=RecordStatus.SELF_ASSESSMENT)
    role = role_of(user)
    if role == Role.CITY_OFFICER and user.division_id:
        return qs.filter(division_id=user.division_id)
    if role == Role.ENTERPRISE and user.entity_id:
        return qs.filter(entity_id=user.entity_id)
    return qs.none()


def consequences_to_carry_out(user: Any) -> QuerySet[Consequence]:
    """Open consequences the user's side must act on: a city its own and its units' (to respond
    or to close), the province every one in its region."""
    from dualcontrol.assessment.models import OPEN_STATUSES

    qs = visible_consequences(user).filter(status__in=OPEN_STATUSES)
    if role_of(user) == Role.CITY_OFFICER and user.division_id:
        path = _division_path(user)
        return qs.filter(
            Q(division_id=user.division_id) | Q(entity__division__path__startswith=path)
        )
    return qs


def visible_consequences(user: Any) -> QuerySet[Consequence]:
    role = role_of(user)
    qs = Consequence.objects.select_related("division", "entity", "entity__division", "record")
    if role in REGION_ROLES:
        return in_region(qs, user, "division", "entity__division")
    if role == Role.CITY_OFFICER and user.division_id:
        path = _division_path(user)
        return qs.filter(
            Q(division__path__startswith=path) | Q(entity__division__path__startswith=path)
        )
    if role == Role.ENTERPRISE and user.entity_id:
        return qs.filter(entity_id=user.entity_id)
    return qs.none()


def can_respond(user: Any, c: Consequence) -> bool:
    """Report rectification: the region's own officer or the unit's reporter."""
    role = role_of(user)
    if c.division_id:
        return role == Role.CITY_OFFICER and user.division_id == c.division_id
    return role == Role.ENTERPRISE and user.entity_id == c.entity_id


def can_close(user: Any, c: Consequence) -> bool:
    """Close (or record an interview for) a consequence: province staff, or the city that
    assessed the region or unit (a region below it, never its own)."""
    if is_province(user):
        from dualcontrol.access.duties import SCORE_ASSESSMENT, has_duty

        return has_duty(user, SCORE_ASSESSMENT) and in_user_region(user, c.subject_division)
    if role_of(user) != Role.CITY_OFFICER or not user.division_id:
        return False
    if c.record_id:
        return c.record.round.assessor_id == user.division_id
    division = c.subject_division
    return division.path.startswith(user.division.path) and division.pk != user.division_id


def visible_credit(user: Any) -> QuerySet[CreditRecord]:
    return CreditRecord.objects.select_related("entity").filter(entity__in=visible_entities(user))
