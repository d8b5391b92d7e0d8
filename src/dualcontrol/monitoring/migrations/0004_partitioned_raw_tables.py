"""The real-time (2011) and minute (2051) readings tables become partitioned by month on
``data_time`` (PostgreSQL): managed by pg_partman when the server has it, hand-made monthly
partitions otherwise (``dualcontrol.timeseries.partitions``).  The primary key (mn, data_time,
code) already holds the partition key, so the sink's ``ON CONFLICT`` keeps working.
SQLite keeps plain tables (the retention deletes rows in batches there).  Issue 22.
"""

from django.db import migrations

from dualcontrol.timeseries import partitions
from dualcontrol.timeseries.policy import timeseries_policy

TABLES = ("monitoring_rtd", "monitoring_minute")
KEY = ("mn", "data_time", "code")


def forwards(apps, schema_editor):
    for table in TABLES:
        partitions.convert_to_partitioned(
            schema_editor,
            table=table,
            column="data_time",
            primary_key=KEY,
            premake_months=timeseries_policy().premake_months,
        )


def backwards(apps, schema_editor):
    for table in TABLES:
        partitions.convert_to_plain(schema_editor, table=table, primary_key=KEY)


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0003_station_password_and_record_versions")]

    operations = [migrations.RunPython(forwards, backwards)]
