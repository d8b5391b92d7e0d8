"""Energy online monitoring at province scale: ingest rate and the daily roll-up.

Target size (issue 7): 1 000 units × 50 items at 15 minutes for a month ≈ 144 M readings.
On a small machine run it scaled down and extrapolate (the figures are per day and per
reading; a month is 30 such days in one monthly partition):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
    BENCH_METERING_UNITS=1000 BENCH_METERING_ITEMS=50 BENCH_METERING_DAYS=2 \\
    python -m benchmarks metering

The benchmark creates its own database (``<name>_bench_metering`` on the server of
DATABASE_URL, dropped afterwards unless BENCH_METERING_KEEP=1; a temporary SQLite file
without DATABASE_URL), registers the items with bulk inserts (not through the registry
service: 50 000 audited registrations would measure the audit log, not the store), then:

1. ingests every unit-day as one batch through ``services.ingest`` — decode-free but with every
   check, the idempotent bulk write and one audit entry per batch (the roll-up is timed apart);
2. re-sends one day (idempotency: all duplicates);
3. loads one more day through ``storage.copy_write`` (COPY + INSERT … ON CONFLICT DO NOTHING);
4. times 200 HTTP requests of 50 readings (one unit's 15-minute upload) through the API;
5. rolls up each day (``services.rollup_all``: counts, sums, stuck-meter runs for every item);
6. times the provincial ranking page query and one unit's month summary.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time


def main() -> None:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "dualcontrol.settings"
    env["DUALCONTROL_ENV"] = "test"
    env["PYTHONUNBUFFERED"] = "1"
    env["DJANGO_DEBUG"] = "0"  # DEBUG keeps every SQL text (with its arrays) in memory
    tmp = tempfile.mkdtemp(prefix="bench-metering-")
    env.setdefault("DUALCONTROL_DATA_DIR", tmp)
    base = env.get("DATABASE_URL", "")
    db_name = ""
    if base.startswith("postgres"):
        import psycopg

        head, _, _ = base.rpartition("/")
        db_name = f"{(base.rpartition('/')[2] or 'dualcontrol').split('?')[0]}_bench_metering"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}"')
            conn.execute(f'CREATE DATABASE "{db_name}"')
        env["DATABASE_URL"] = f"{head}/{db_name}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    try:
        subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_metering", "--child"], env=env, check=True
        )
    finally:
        if db_name and os.environ.get("BENCH_METERING_KEEP") != "1":
            import psycopg

            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}"')


def _child() -> None:
    import django

    django.setup()
    import numpy as np
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from dualcontrol.accounts.models import ApiToken, Role, User, hash_token
    from dualcontrol.core import metering as core
    from dualcontrol.entities.models import Entity, Industry
    from dualcontrol.metering import queries, services, storage
    from dualcontrol.metering.models import DataItem
    from dualcontrol.regions.models import Division

    units = int(os.environ.get("BENCH_METERING_UNITS", "1000"))
    n_items = int(os.environ.get("BENCH_METERING_ITEMS", "50"))
    days = int(os.environ.get("BENCH_METERING_DAYS", "1"))
    vendor = connection.vendor
    print(f"database: {vendor} {connection.settings_dict['NAME']}; cores: {os.cpu_count()}")
    print(
        f"size: {units} units × {n_items} items × 96 readings/day × {days} day(s) "
        f"= {units * n_items * 96 * days:,} readings (+1 day by COPY)"
    )
    call_command("migrate", verbosity=0)

    t = time.perf_counter()
    province = Division.objects.create(
        code="530000", name="云南省", level="province", source="bench"
    )
    city = Division.objects.create(
        code="530100", name="昆明市", level="prefecture", parent=province, source="bench"
    )
    industry = Industry.objects.create(code="30", name="非金属矿物制品业", source="bench")
    from dualcontrol.core.codes import make_uscc

    Entity.objects.bulk_create(
        [
            Entity(uscc=make_uscc("91", "530100", f"{i:09d}"), name=f"基准单位{i}", division=city,
                   industry=industry, online_monitoring=True)
            for i in range(units)
        ],
        batch_size=2000,
    )  # fmt: skip
    entities = list(Entity.objects.order_by("pk"))
    codes = [
        f"{k // 10:02d}{k % 10:02d}0101022230{'01' if k == 0 else '02'}" for k in range(n_items)
    ]
    items = []
    for e in entities:
        for k, code in enumerate(codes):
            p = core.decompose(code)
            items.append(
                DataItem(
                    entity=e, code=code, name=f"电力{k}", process_code=p.process,
                    process_unit_code=p.process_unit, equipment_type_code=p.equipment_type,
                    equipment_code=p.equipment_no, data_type=p.data_type, energy_code=p.energy_code,
                    use_code=p.use, frequency=0, interval_minutes=15, unit="千瓦时", min_value=0,
                    max_value=1e6, boundary="in" if k == 0 else "", product_code="23",
                    to_product_factor=core.to_product_factor("千瓦时", "万千瓦时"),
                )
            )  # fmt: skip
    DataItem.objects.bulk_create(items, batch_size=5000)
    user = User.objects.create(username="bench", role=Role.PROVINCE_ADMIN, is_superuser=True)
    print(
        f"registry: {len(entities)} units, {len(items):,} items in {time.perf_counter() - t:.1f} s"
    )

    today = timezone.localdate()
    day0 = today - dt.timedelta(days=days + 1)
    rng = np.random.default_rng(7)
    now = timezone.now()

    def unit_day(entity_items: list[DataItem], day: dt.date) -> list[services.RawReading]:
        start = services.aware(dt.datetime.combine(day, dt.time()))
        stamps = [start + dt.timedelta(minutes=15 * k) for k in range(96)]
        values = np.round(rng.uniform(50, 150, size=(len(entity_items), 96)), 2).tolist()
        out: list[services.RawReading] = []
        for item, row in zip(entity_items, values, strict=True):
            for ts, v in zip(stamps, row, strict=True):
                out.append(
                    services.RawReading(index=len(out), item=item.code, ts=ts, value=v, frequency=0)
                )
        return out

    by_entity: dict[int, list[DataItem]] = {}
    for item in DataItem.objects.order_by("entity_id", "code"):
        by_entity.setdefault(item.entity_id, []).append(item)
    storage.ensure_partitions({day0.replace(day=1), today.replace(day=1)})

    # 1. ingest through the service
    total = 0
    t_ingest = 0.0
    t_gen = 0.0
    for d in range(days):
        day = day0 + dt.timedelta(days=d)
        t_day = time.perf_counter()
        for e in entities:
            g = time.perf_counter()
            batch = unit_day(by_entity[e.pk], day)
            t_gen += time.perf_counter() - g
            r = services.ingest(
                entity=e, readings=batch, user=user, channel="bench", now=now, roll_up=False
            )
            total += r.stored
        elapsed = time.perf_counter() - t_day
        t_ingest += elapsed
        print(f"ingest day {day}: {units * n_items * 96:,} readings in {elapsed:.1f} s")
    net = t_ingest - t_gen
    print(f"INGEST (service path, batches of one unit-day = {n_items * 96} readings): {total:,} stored "
          f"in {t_ingest:.1f} s incl. {t_gen:.1f} s generating the test data → {total / net:,.0f} readings/s")  # fmt: skip

    # 2. idempotent re-send of one day for 50 units
    sample = entities[: min(50, units)]
    t = time.perf_counter()
    dups = 0
    for e in sample:
        r = services.ingest(entity=e, readings=unit_day(by_entity[e.pk], day0), user=user,
                            channel="bench", now=now, roll_up=False)  # fmt: skip
        dups += len(r.duplicates)
    el = time.perf_counter() - t
    print(
        f"RE-SEND (idempotency) {len(sample)} unit-days: {dups:,} duplicates acknowledged in {el:.1f} s → {dups / el:,.0f} readings/s"
    )

    # 3. bulk load of one more day by COPY
    copy_day = day0 + dt.timedelta(days=days)
    rows = []
    start = services.aware(dt.datetime.combine(copy_day, dt.time()))
    stamps = [start + dt.timedelta(minutes=15 * k) for k in range(96)]
    g = time.perf_counter()
    values = rng.uniform(50, 150, size=(units * n_items, 96)).round(2)
    ids = [i.pk for e in entities for i in by_entity[e.pk]]
    for item_id, row in zip(ids, values.tolist(), strict=True):
        rows.extend((item_id, ts, v, 4, None) for ts, v in zip(stamps, row, strict=True))
    gen = time.perf_counter() - g
    t = time.perf_counter()
    from django.db import transaction

    with transaction.atomic():
        n = storage.copy_write(rows)
    el = time.perf_counter() - t
    print(
        f"COPY one day: {n:,} readings in {el:.1f} s → {n / el:,.0f} readings/s (test data built in {gen:.1f} s)"
    )
    del rows, values

    # 4. HTTP: 200 uploads of 50 readings (one unit's 15-minute batch)
    ent_users = []
    for e in entities[:200]:
        u = User.objects.create(username=f"u{e.pk}", role=Role.ENTERPRISE, entity=e)
        raw = ApiToken.new_key()
        ApiToken.objects.create(user=u, key_hash=hash_token(raw), prefix=raw[:8],
                                expires=timezone.now() + dt.timedelta(hours=1))  # fmt: skip
        ent_users.append((e, raw))
    c = Client()
    slot = timezone.localtime().replace(second=0, microsecond=0) - dt.timedelta(hours=1)
    slot = slot.replace(minute=slot.minute // 15 * 15)
    import json

    lat = []
    for e, raw in ent_users:
        body = json.dumps(
            {
                "readings": [
                    {"item": i.code, "ts": slot.isoformat(), "value": 1.5} for i in by_entity[e.pk]
                ]
            }
        )
        t = time.perf_counter()
        resp = c.post(
            "/api/metering/readings",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
        )
        lat.append(time.perf_counter() - t)
        assert resp.status_code == 200, resp.content
    lat.sort()
    print(f"HTTP POST /api/metering/readings ({n_items} readings, with per-batch roll-up): median {lat[len(lat) // 2] * 1000:.0f} ms, "
          f"p95 {lat[int(len(lat) * 0.95)] * 1000:.0f} ms → one process serves {1 / lat[len(lat) // 2]:.0f} uploads/s "
          f"(the province sends {units / 900:.1f}/s at 15 minutes)")  # fmt: skip

    # 5. daily roll-up
    for d in range(days + 1):
        day = day0 + dt.timedelta(days=d)
        t = time.perf_counter()
        rows_written = services.rollup_all(day=day)
        print(f"ROLL-UP {day}: {rows_written:,} item-days in {time.perf_counter() - t:.1f} s")

    # 6. reads
    month = day0.replace(day=1)
    t = time.perf_counter()
    ranking = queries.ranking(user, month)
    print(
        f"ranking page query ({len(ranking)} units, month {month:%Y-%m}): {time.perf_counter() - t:.2f} s"
    )
    t = time.perf_counter()
    queries.unit_month(entities[0], month)
    print(f"one unit's month summary: {time.perf_counter() - t:.2f} s")
    stored = storage.count()
    size = storage.table_bytes()
    print(f"stored readings: {stored:,}")
    if size:
        per = size / stored
        print(f"readings table + indexes: {size / 2**30:.2f} GiB = {per:.0f} bytes/reading → "
              f"144 M readings ≈ {per * 144e6 / 2**30:.0f} GiB per month")  # fmt: skip


if __name__ == "__main__":
    if "--child" in sys.argv:
        _child()
    else:
        main()
