from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.models import Group
from django.db import transaction

from dualcontrol.audit.context import acting_as
from dualcontrol.audit.models import AuditCheckpoint, AuditEntry


def _auditor_only(request):
    # separated duties: not even a superuser (the system administrator) reads the log
    from dualcontrol.access.scope import can_view_audit

    return can_view_audit(request.user)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_name", "action", "object_type", "object_repr")
    list_filter = ("action", "object_type")
    search_fields = ("actor_name", "object_repr", "object_id", "note")
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_view_permission(self, request, obj=None):
        return _auditor_only(request)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(AuditEntryAdmin):
    list_display = ("at", "actor_name", "cutoff", "through_id", "pruned")
    list_filter = ()
    search_fields = ()
    date_hierarchy = None
    readonly_fields = [f.name for f in AuditCheckpoint._meta.fields]


class AuditedAdmin(admin.ModelAdmin):
    """Admin whose saves and deletes are recorded in the audit log (same transaction).

    Many-to-many changes made by the form (groups, permissions, assigned units) are recorded by
    :mod:`dualcontrol.audit.signals` with the admin user as actor.  For the user admin it also
    records a password set or reset through the admin's password form."""

    def save_model(self, request, obj, form, change):
        from dualcontrol.audit.services import record, snapshot

        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        record(
            actor=request.user,
            action=f"admin.{'change' if change else 'add'}",
            obj=obj,
            before=before,
            after=snapshot(obj),
        )

    def save_related(self, request, form, formsets, change):
        with acting_as(request.user):
            super().save_related(request, form, formsets, change)

    def delete_model(self, request, obj):
        from dualcontrol.audit.services import record, snapshot

        before = snapshot(obj, m2m=True)
        label, pk, text = obj._meta.label_lower, str(obj.pk), str(obj)
        with acting_as(request.user):
            super().delete_model(request, obj)
        record(
            actor=request.user,
            action="admin.delete",
            object_type=label,
            object_id=pk,
            object_repr=text,
            before=before,
        )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def user_change_password(self, request, id, form_url=""):
        """The admin's "change password" form of a user (UserAdmin only): recorded when the stored
        password changed — set, reset, or password login disabled — never the password itself."""
        from dualcontrol.audit.services import record

        with transaction.atomic():
            before = self.get_object(request, unquote(id))
            mark = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
            response = super().user_change_password(request, id, form_url)
            target = self.get_object(request, unquote(id))
            # the login-policy mixin (accounts.login_admin) may have recorded it already
            recorded = AuditEntry.objects.filter(
                id__gt=mark,
                object_type=self.model._meta.label_lower,
                object_id=str(target.pk if target else ""),
                action__contains="password",
            ).exists()
            if (
                request.method == "POST"
                and before is not None
                and target is not None
                and target.password != before.password
                and not recorded
            ):
                record(
                    actor=request.user,
                    action="admin.password_reset",
                    obj=target,
                    after={
                        "usable": target.has_usable_password(),
                        "by": request.user.get_username(),
                    },
                )
        return response


class GroupAdmin(AuditedAdmin, BaseGroupAdmin):
    """Groups carry permissions: their creation, change (permissions: m2m) and deletion are audited."""


def register_group_admin(site=admin.site):
    """Replace django.contrib.auth's GroupAdmin (called from AuditConfig.ready, after the admin
    modules of every app were imported)."""
    if site.is_registered(Group):
        site.unregister(Group)
    site.register(Group, GroupAdmin)
