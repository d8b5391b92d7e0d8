"""The readings table, per database engine (the model's state is declared separately).

PostgreSQL: declarative range partitioning on ``ts`` (one partition per calendar month in
platform local time, created on demand by ``dualcontrol.metering.storage.ensure_partitions``),
primary key (item_id, ts) — the idempotency key — and a BRIN index on ts for the daily roll-up.
SQLite: one WITHOUT ROWID table clustered on (item_id, ts) plus an index on ts.
No foreign key to the items table: the service validates every item before writing, and
an FK check per row would cost the bulk inserts.

The model stays *managed* (so ``flush`` and test teardown empty it); its table is created here
by engine-specific SQL and its migration state by ``SeparateDatabaseAndState``.
"""

import django.db.models.deletion
from django.db import migrations, models

POSTGRES = [
    """
    CREATE TABLE metering_reading (
        item_id bigint NOT NULL,
        ts timestamptz NOT NULL,
        value double precision NOT NULL,
        source smallint NOT NULL DEFAULT 4,
        batch_id bigint NULL,
        PRIMARY KEY (item_id, ts)
    ) PARTITION BY RANGE (ts)
    """,
    "CREATE INDEX metering_reading_ts_brin ON metering_reading USING brin (ts)",
]
SQLITE = [
    """
    CREATE TABLE metering_reading (
        item_id integer NOT NULL,
        ts datetime NOT NULL,
        value real NOT NULL,
        source smallint NOT NULL DEFAULT 4,
        batch_id integer NULL,
        PRIMARY KEY (item_id, ts)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX metering_reading_ts ON metering_reading (ts)",
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise RuntimeError(f"metering readings: no table definition for {vendor}")
    for sql in POSTGRES if vendor == "postgresql" else SQLITE:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    schema_editor.execute("DROP TABLE IF EXISTS metering_reading")


class Migration(migrations.Migration):
    dependencies = [("metering", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(create, drop)],
            state_operations=[
                migrations.CreateModel(
                    name="Reading",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "item_id",
                                "ts",
                                blank=True,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        (
                            "item",
                            models.ForeignKey(
                                db_constraint=False,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="metering.dataitem",
                            ),
                        ),
                        ("ts", models.DateTimeField(verbose_name="数据时间")),
                        ("value", models.FloatField(verbose_name="数值")),
                        (
                            "source",
                            models.SmallIntegerField(
                                choices=[(4, "现场仪表"), (5, "手工填报")], verbose_name="来源"
                            ),
                        ),
                        ("batch_id", models.BigIntegerField(null=True)),
                    ],
                    options={
                        "verbose_name": "监测数据",
                        "verbose_name_plural": "监测数据",
                        "db_table": "metering_reading",
                    },
                ),
            ],
        )
    ]
