"""Many-to-many changes of rights and scope, recorded whoever makes them (admin, service, shell).

Watched: a user's groups, direct permissions and assigned units (a verifier's units), and a group's
permissions.  Each change is one entry per changed user or group with the ids and names added or
removed; a change made from the other side (``group.user_set.add(u)``, ``entity.verifiers.add(u)``)
is recorded on each user it touches.  The actor is the request's user (see
:mod:`dualcontrol.audit.context`), or "system" outside a request.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import models
from django.db.models.signals import m2m_changed

from dualcontrol.audit.context import current_actor

# through model → (model owning the field, field name); filled by connect()
_WATCHED: dict[type[models.Model], tuple[type[models.Model], str]] = {}
_CLEARED = "_audit_cleared"


def _name(obj: models.Model) -> str:
    if isinstance(obj, Permission):
        return f"{obj.content_type.app_label}.{obj.codename}"
    username = getattr(obj, "get_username", None)
    return str(username()) if callable(username) else str(obj)


def _described(model: type[models.Model], ids: set[Any]) -> list[dict[str, Any]]:
    qs = model._default_manager.filter(pk__in=ids)
    if model is Permission:
        qs = qs.select_related("content_type")
    found = {o.pk: _name(o) for o in qs}
    return [{"id": pk, "name": found.get(pk, "")} for pk in sorted(ids)]


def _through_columns(through: type[models.Model], owner: type[models.Model]) -> tuple[str, str]:
    """(column pointing to the owner of the field, column pointing to the other side)."""
    fks = [f for f in through._meta.get_fields() if isinstance(f, models.ForeignKey)]
    own = next(f for f in fks if f.related_model is owner)
    other = next(f for f in fks if f is not own)
    return own.attname, other.attname


def _record(owner: models.Model, field: str, verb: str, other: type[models.Model], ids: set[Any]):
    from dualcontrol.audit.services import record

    if not ids:
        return
    relation = f"{owner._meta.label_lower}.{field}"
    record(
        actor=current_actor(),
        action=f"m2m.{verb}",
        obj=owner,
        after={
            "field": relation,
            ("added" if verb == "add" else "removed"): _described(other, ids),
        },
    )


def on_m2m_changed(
    sender: Any, instance: Any, action: str, reverse: bool, model: Any, pk_set: Any, **kwargs: Any
) -> None:
    watched = _WATCHED.get(sender)
    if watched is None or action not in {"post_add", "post_remove", "pre_clear", "post_clear"}:
        return
    owner_model, field = watched
    own_col, other_col = _through_columns(sender, owner_model)
    other_model = sender._meta.get_field(other_col.removesuffix("_id")).related_model
    if action == "pre_clear":
        # the ids are gone after the clear: read them now
        col = other_col if not reverse else own_col
        where = own_col if not reverse else other_col
        ids = set(
            sender._default_manager.filter(**{where: instance.pk}).values_list(col, flat=True)
        )
        instance.__dict__.setdefault(_CLEARED, {})[sender] = ids
        return
    if action == "post_clear":
        ids = instance.__dict__.get(_CLEARED, {}).pop(sender, set())
        verb = "remove"
    else:
        ids = set(pk_set or ())
        verb = "add" if action == "post_add" else "remove"
    if not reverse:
        _record(instance, field, verb, other_model, ids)
        return
    # changed from the other side: one entry on each owner touched
    for owner in owner_model._default_manager.filter(pk__in=ids):
        _record(owner, field, verb, other_model, {instance.pk})


def connect() -> None:
    from django.contrib.auth import get_user_model

    user = get_user_model()
    for owner, field in (
        (user, "groups"),
        (user, "user_permissions"),
        (user, "assigned_entities"),
        (Group, "permissions"),
    ):
        through = owner._meta.get_field(field).remote_field.through  # type: ignore[union-attr]
        _WATCHED[through] = (owner, field)
        m2m_changed.connect(
            on_m2m_changed, sender=through, dispatch_uid=f"audit-m2m-{owner._meta.label}-{field}"
        )
