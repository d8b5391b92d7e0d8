"""The readings table's monthly partitions handed over to pg_partman when the server has it
(``dualcontrol.timeseries.partitions``): the table is rebuilt as a pg_partman partition set and
its rows copied.  Without pg_partman the hand-made monthly partitions of 0002 stay as they are.
SQLite: nothing changes.  Issue 22.
"""

from django.db import migrations

from dualcontrol.timeseries import partitions
from dualcontrol.timeseries.policy import timeseries_policy

INDEXES = ["CREATE INDEX metering_reading_ts_brin ON metering_reading USING brin (ts)"]


def forwards(apps, schema_editor):
    partitions.convert_to_partitioned(
        schema_editor,
        table="metering_reading",
        column="ts",
        primary_key=("item_id", "ts"),
        indexes=INDEXES,
        premake_months=timeseries_policy().premake_months,
        only_with_partman=True,
    )


class Migration(migrations.Migration):
    dependencies = [("metering", "0002_reading_table")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
