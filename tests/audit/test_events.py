"""Events the log missed (issue 23): admin password resets, groups, many-to-many and permission
changes, a verifier's units, data exports."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from dualcontrol.accounts.models import Role, User
from dualcontrol.audit.chain import verify
from dualcontrol.audit.models import AuditEntry
from tests.auth import login
from tests.factories import user

pytestmark = pytest.mark.django_db


def _new(action: str, mark: int, **filters) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(id__gt=mark, action=action, **filters).order_by("id"))


def _mark() -> int:
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _perm(codename: str) -> Permission:
    return Permission.objects.get(codename=codename)


def test_an_admin_password_reset_is_recorded_without_the_password(world, client):
    admin = world.users[Role.SYSTEM_ADMIN]
    target = world.users[Role.CITY_OFFICER]
    old_hash = target.password
    login(client, admin)
    mark = _mark()
    r = client.post(
        f"/admin/accounts/user/{target.pk}/password/",
        {
            "password1": "Kunming-Reset-2026!",
            "password2": "Kunming-Reset-2026!",
            "usable_password": "true",
        },
    )
    assert r.status_code == 302, r.content.decode()[:1500]
    target.refresh_from_db()
    assert target.password != old_hash and target.check_password("Kunming-Reset-2026!")
    resets = [
        e
        for e in AuditEntry.objects.filter(id__gt=mark, object_id=str(target.pk))
        if "password" in e.action
    ]
    assert len(resets) == 1, [e.action for e in resets]  # once, whichever admin code records it
    reset = resets[0]
    assert reset.actor_name == admin.username and reset.object_type == "accounts.user"
    text = str(AuditEntry.objects.filter(id__gt=mark).values_list("before", "after", "note"))
    assert (
        "Kunming-Reset-2026!" not in text and target.password not in text and old_hash not in text
    )


def test_an_invalid_password_form_records_nothing(world, client):
    admin = world.users[Role.SYSTEM_ADMIN]
    target = world.users[Role.CITY_OFFICER]
    login(client, admin)
    mark = _mark()
    r = client.post(
        f"/admin/accounts/user/{target.pk}/password/",
        {"password1": "a", "password2": "b", "usable_password": "true"},
    )
    assert r.status_code == 200
    assert not [e for e in AuditEntry.objects.filter(id__gt=mark) if "password" in e.action]


def test_group_creation_change_and_deletion_in_the_admin(world, client):
    admin = world.users[Role.SYSTEM_ADMIN]
    login(client, admin)
    view, change = _perm("view_entity"), _perm("change_entity")
    mark = _mark()
    r = client.post("/admin/auth/group/add/", {"name": "单位管理", "permissions": [view.pk]})
    assert r.status_code == 302, r.content.decode()[:1500]
    group = Group.objects.get(name="单位管理")
    (added,) = _new("admin.add", mark, object_type="auth.group")
    assert added.actor_name == admin.username and added.after["name"] == "单位管理"
    (perms,) = _new("m2m.add", mark, object_type="auth.group")
    assert perms.actor_name == admin.username
    assert perms.after == {
        "field": "auth.group.permissions",
        "added": [{"id": view.pk, "name": "entities.view_entity"}],
    }

    mark = _mark()
    r = client.post(
        f"/admin/auth/group/{group.pk}/change/", {"name": "单位管理组", "permissions": [change.pk]}
    )
    assert r.status_code == 302
    (renamed,) = _new("admin.change", mark, object_type="auth.group")
    assert (renamed.before["name"], renamed.after["name"]) == ("单位管理", "单位管理组")
    (removed,) = _new("m2m.remove", mark, object_type="auth.group")
    (granted,) = _new("m2m.add", mark, object_type="auth.group")
    assert removed.after["removed"] == [{"id": view.pk, "name": "entities.view_entity"}]
    assert granted.after["added"] == [{"id": change.pk, "name": "entities.change_entity"}]

    group.user_set.add(world.users[Role.PROVINCE_OFFICER])
    mark = _mark()
    r = client.post(f"/admin/auth/group/{group.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    assert not Group.objects.filter(pk=group.pk).exists()
    (deleted,) = _new("admin.delete", mark, object_type="auth.group")
    assert deleted.actor_name == admin.username
    assert deleted.before["name"] == "单位管理组" and deleted.before["permissions"] == [change.pk]
    assert verify().ok


def test_a_users_groups_and_permissions_are_recorded_with_ids_and_names(world):
    officer = world.users[Role.PROVINCE_OFFICER]
    group = Group.objects.create(name="审核员")
    perm = _perm("view_entity")
    mark = _mark()
    officer.groups.add(group)
    officer.user_permissions.add(perm)
    officer.groups.remove(group)
    officer.user_permissions.clear()
    got = [
        (e.action, e.object_id, e.after)
        for e in AuditEntry.objects.filter(id__gt=mark).order_by("id")
    ]
    uid = str(officer.pk)
    assert got == [
        (
            "m2m.add",
            uid,
            {"field": "accounts.user.groups", "added": [{"id": group.pk, "name": "审核员"}]},
        ),
        (
            "m2m.add",
            uid,
            {
                "field": "accounts.user.user_permissions",
                "added": [{"id": perm.pk, "name": "entities.view_entity"}],
            },
        ),
        (
            "m2m.remove",
            uid,
            {"field": "accounts.user.groups", "removed": [{"id": group.pk, "name": "审核员"}]},
        ),
        (
            "m2m.remove",
            uid,
            {
                "field": "accounts.user.user_permissions",
                "removed": [{"id": perm.pk, "name": "entities.view_entity"}],
            },
        ),
    ]
    assert all(e.actor_name == "system" for e in AuditEntry.objects.filter(id__gt=mark))


def test_changes_from_the_other_side_are_recorded_on_each_user(world):
    group = Group.objects.create(name="审核员")
    a, b = world.users[Role.PROVINCE_OFFICER], world.users[Role.CITY_OFFICER]
    mark = _mark()
    group.user_set.add(a, b)
    entries = _new("m2m.add", mark)
    assert sorted(e.object_id for e in entries) == sorted([str(a.pk), str(b.pk)])
    assert all(e.after["added"] == [{"id": group.pk, "name": "审核员"}] for e in entries)
    mark = _mark()
    group.user_set.clear()
    assert sorted(e.object_id for e in _new("m2m.remove", mark)) == sorted([str(a.pk), str(b.pk)])


def test_a_verifiers_units_changed_in_the_admin_name_the_administrator(world, client):
    admin = world.users[Role.SYSTEM_ADMIN]
    verifier = world.users[Role.VERIFIER]
    login(client, admin)
    page = client.get(f"/admin/accounts/user/{verifier.pk}/change/")
    form = page.context["adminform"].form
    data = {
        k: v
        for k, v in {
            "username": verifier.username,
            "role": verifier.role,
            "is_active": "on",
            "date_joined_0": verifier.date_joined.date().isoformat(),
            "date_joined_1": "00:00:00",
        }.items()
    }
    assert "assigned_entities" in form.fields
    data["assigned_entities"] = [world.other_unit.pk]
    mark = _mark()
    r = client.post(f"/admin/accounts/user/{verifier.pk}/change/", data)
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    assert list(verifier.assigned_entities.all()) == [world.other_unit]
    (removed,) = _new("m2m.remove", mark, object_id=str(verifier.pk))
    (added,) = _new("m2m.add", mark, object_id=str(verifier.pk))
    assert removed.actor_name == added.actor_name == admin.username
    assert removed.after == {
        "field": "accounts.user.assigned_entities",
        "removed": [{"id": world.unit.pk, "name": str(world.unit)}],
    }
    assert added.after["added"] == [{"id": world.other_unit.pk, "name": str(world.other_unit)}]


def test_an_excel_export_is_recorded_with_its_row_count(world, client):
    officer = world.users[Role.PROVINCE_ADMIN]
    login(client, officer)
    mark = _mark()
    r = client.get("/entities/", {"export": "xlsx", "q": "测试"})
    assert r.status_code == 200 and r["Content-Disposition"].startswith("attachment")
    (export,) = _new("export", mark)
    assert export.actor_name == officer.username
    assert export.object_type == "export.entities" and export.object_repr == "entities.xlsx"
    assert export.after["rows"] == 2 and export.after["format"] == "xlsx"
    assert export.after["path"] == "/entities/" and export.after["filters"]["q"] == "测试"


def test_other_downloads_are_recorded_by_the_middleware(world, client):
    clerk = world.users[Role.ENTERPRISE]
    login(client, clerk)
    mark = _mark()
    r = client.get("/reports/template.xlsx")
    assert r.status_code == 200
    (export,) = _new("export", mark)
    assert export.actor_name == clerk.username
    assert (
        export.object_repr == "205-1-template.xlsx"
        and export.after["path"] == "/reports/template.xlsx"
    )
    # a page is not an export
    mark = _mark()
    assert client.get("/reports/").status_code == 200
    assert not _new("export", mark)


def test_anonymous_public_downloads_are_not_recorded(world, client):
    from django.http import HttpResponse
    from django.test import RequestFactory

    from dualcontrol.audit.middleware import AuditMiddleware

    def view(request):
        response = HttpResponse(b"a,b\n", content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="bulletin.csv"'
        return response

    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/public/bulletin.csv")
    request.user = AnonymousUser()
    mark = _mark()
    AuditMiddleware(view)(request)
    assert not _new("export", mark)
    request.user = world.users[Role.CITY_OFFICER]
    AuditMiddleware(view)(request)
    (export,) = _new("export", mark)
    assert export.object_repr == "bulletin.csv" and export.after["format"] == "csv"


def test_the_explicit_user_of_the_excel_helper(world):
    from dualcontrol.exports import xlsx_response

    mark = _mark()
    response = xlsx_response(
        "t.xlsx", "things", ["a"], ([i] for i in range(7)), user=world.users[Role.CITY_OFFICER]
    )
    assert response.audit_recorded and response.export_rows == 7
    (export,) = _new("export", mark)
    assert export.after == {"format": "xlsx", "filename": "t.xlsx", "rows": 7}
    assert export.actor_name == "city1"


def test_a_new_user_in_the_admin_with_groups(world, client):
    admin = world.users[Role.SYSTEM_ADMIN]
    group = Group.objects.create(name="审核员")
    newbie = user(
        "newbie", Role.PROVINCE_OFFICER, department=world.users[Role.PROVINCE_OFFICER].department
    )
    login(client, admin)
    mark = _mark()
    newbie_page = client.get(f"/admin/accounts/user/{newbie.pk}/change/")
    assert newbie_page.status_code == 200
    data = {
        "username": "newbie",
        "role": Role.PROVINCE_OFFICER,
        "department": newbie.department_id,
        "is_active": "on",
        "is_staff": "on",
        "groups": [group.pk],
        "date_joined_0": newbie.date_joined.date().isoformat(),
        "date_joined_1": "00:00:00",
    }
    r = client.post(f"/admin/accounts/user/{newbie.pk}/change/", data)
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    (change,) = _new("admin.change", mark, object_id=str(newbie.pk))
    assert change.before["is_staff"] is False and change.after["is_staff"] is True
    (joined,) = _new("m2m.add", mark, object_id=str(newbie.pk))
    assert joined.actor_name == admin.username and joined.after["added"][0]["name"] == "审核员"
    assert User.objects.get(pk=newbie.pk).groups.get() == group


def test_the_audited_admin_records_a_password_reset_by_itself(world, rf):
    """Without the login-policy mixin (accounts.login_admin), AuditedAdmin records the reset."""
    from django.contrib.admin import AdminSite
    from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore

    from dualcontrol.audit.admin import AuditedAdmin

    class PlainUserAdmin(AuditedAdmin, BaseUserAdmin):
        pass

    admin_user = world.users[Role.SYSTEM_ADMIN]
    target = world.users[Role.CITY_OFFICER]
    model_admin = PlainUserAdmin(User, AdminSite())
    request = rf.post(
        f"/x/{target.pk}/password/",
        {
            "password1": "Kunming-Reset-2026!",
            "password2": "Kunming-Reset-2026!",
            "usable_password": "true",
        },
    )
    request.user = admin_user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    mark = _mark()
    response = model_admin.user_change_password(request, str(target.pk))
    assert response.status_code == 302
    (reset,) = _new("admin.password_reset", mark)
    assert reset.object_id == str(target.pk) and reset.actor_name == admin_user.username
    assert reset.after == {"usable": True, "by": admin_user.username}
