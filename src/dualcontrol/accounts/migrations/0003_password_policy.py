# Password policy of 等保 2.0 (GB/T 22239-2019 8.1.4.1): forced change of an initial password,
# password history (hashes only), and the security administrators' group that sees and clears
# login locks (django-axes tables).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SECURITY_GROUP = "安全管理员"
# axes model -> (verbose name, permissions of the group)
AXES_PERMISSIONS = {
    "accessattempt": ("access attempt", ("view", "delete")),
    "accessfailurelog": ("access failure", ("view",)),
    "accesslog": ("access log", ("view",)),
}


def create_security_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    group, _ = Group.objects.get_or_create(name=SECURITY_GROUP)
    for model, (verbose, actions) in AXES_PERMISSIONS.items():
        ct, _ = ContentType.objects.get_or_create(app_label="axes", model=model)
        for action in actions:
            perm, _ = Permission.objects.get_or_create(
                content_type=ct,
                codename=f"{action}_{model}",
                defaults={"name": f"Can {action} {verbose}"},
            )
            group.permissions.add(perm)


def remove_security_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=SECURITY_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_separated_duties"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="must_change_password",
            field=models.BooleanField(
                default=False,
                help_text="管理员创建账号或重置密码后自动勾选；用户自行修改密码后清除。",
                verbose_name="须修改初始密码",
            ),
        ),
        migrations.CreateModel(
            name="PasswordHistory",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("password", models.CharField(max_length=128, verbose_name="密码哈希")),
                (
                    "created",
                    models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="设置时间"),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="password_history",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "历史密码",
                "verbose_name_plural": "历史密码",
                "ordering": ["-created", "-id"],
            },
        ),
        migrations.RunPython(create_security_group, remove_security_group),
    ]
