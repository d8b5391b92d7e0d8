# API tokens are revoked, never deleted (logout, password change, owner, security administrator, cap).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_password_policy"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="revoked_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="吊销时间"),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="revoked_reason",
            field=models.CharField(blank=True, max_length=200, verbose_name="吊销原因"),
        ),
    ]
