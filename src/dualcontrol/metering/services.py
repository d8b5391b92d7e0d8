"""Use cases of energy online monitoring: the only code that writes monitoring data.

* registry: :func:`save_items`, :func:`save_instruments` — validated whole, one transaction,
  audited (before/after per row);
* ingest: :func:`ingest` — a batch of readings from a unit's access system (or a manual monthly
  entry): every reading checked (unknown item, bad value, future, too old, off the grid, out of
  range); the valid ones written in bulk (idempotent on item + time), the refused ones listed with
  a reason and tallied per item and day; one :class:`IngestBatch` and one audit entry per batch;
* roll-up: :func:`rollup` — per item and day: received, the day's figure, stuck-meter runs;
* checks: :func:`run_checks` — late/missing uploads, incomplete days, stuck meters, out-of-range,
  day-vs-month inconsistency, faults beyond the repair deadline, calibration due → alerts to the
  unit and the city officers of its region;
* 报备: :func:`file_fault`, :func:`review_fault`, :func:`close_fault`; gap explanations.

Every threshold comes from ``metering_rules.yaml`` (:func:`dualcontrol.reference.metering.metering_rules`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from dualcontrol.access.scope import (
    can_configure_metering,
    can_file_for,
    can_review,
    visible_entities,
)
from dualcontrol.accounts.models import Role, User
from dualcontrol.audit.services import record, snapshot
from dualcontrol.core import metering as core
from dualcontrol.core.units import UnitError
from dualcontrol.entities.models import Entity
from dualcontrol.metering import storage
from dualcontrol.metering.models import (
    Alert,
    AlertKind,
    Boundary,
    DataItem,
    FaultReport,
    GapExplanation,
    IngestBatch,
    ItemDay,
    MeteringInstrument,
    RejectTally,
    alert_text,
)
from dualcontrol.reference.energy_products import energy_products
from dualcontrol.reference.metering import code_catalogue, metering_rules
from dualcontrol.reference.workcalendar import work_calendar

SYSTEM_CHANNELS = {"demo", "bench", "system"}
MAX_ERRORS_KEPT = 100
ROLLUP_CHUNK = 2000  # items per roll-up query


class PermissionDenied(Exception):
    """The user may not do this for this unit."""


class WorkflowError(Exception):
    """The action does not fit the state (e.g. accepting a closed fault report)."""


@dataclass(frozen=True)
class Problem:
    """A registry problem: row (1-based in the submitted list), field and reason."""

    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return (
            _("第%(row)s行 %(field)s: %(reason)s")
            % {"row": self.row, "field": self.field, "reason": self.reason}
            if self.row
            else f"{self.field}: {self.reason}"
        )


class RegistryRejected(Exception):
    """The registry change was refused as a whole; nothing was written."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems[:5]))


# ---------------------------------------------------------------------------------------------
# Access (built on accounts.scope)


def monitored_entities(user: Any) -> QuerySet[Entity]:
    """Units under online monitoring the user may see."""
    return visible_entities(user).filter(online_monitoring=True)


def can_upload(user: Any, entity: Entity) -> bool:
    """Only the unit's own reporter (its access system's account) uploads its data."""
    return can_file_for(user, entity)


def can_configure(user: Any, entity: Entity) -> bool:
    """The unit's reporter, or the province administrator, maintains its registry."""
    return can_configure_metering(user, entity)


def local_now(now: dt.datetime | None = None) -> dt.datetime:
    """Platform local time, naive (the core's convention)."""
    return timezone.localtime(now or timezone.now()).replace(tzinfo=None)


def aware(local: dt.datetime) -> dt.datetime:
    return local.replace(tzinfo=storage.local_tz())


def to_local(ts: dt.datetime) -> dt.datetime:
    """Naive local time of ``ts`` (naive input is taken as local time already)."""
    if ts.tzinfo is None:
        return ts
    return ts.astimezone(storage.local_tz()).replace(tzinfo=None)


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time())
    return aware(start), aware(start + dt.timedelta(days=1))


# ---------------------------------------------------------------------------------------------
# Registry


@dataclass
class ItemInput:
    code: str
    frequency: int
    name: str
    interval_minutes: int | None = None
    interval_grant: str = ""
    source: int = core.DataSource.METER
    unit: str = ""
    min_value: float | None = None
    max_value: float | None = None
    is_reported: bool = True
    boundary: str = ""
    instrument_number: str = ""
    system_name: str = ""
    active: bool = True
    active_from: dt.date | None = None


ITEM_FIELDS = (
    "name",
    "process_code",
    "process_unit_code",
    "equipment_type_code",
    "equipment_code",
    "data_type",
    "energy_code",
    "use_code",
    "interval_minutes",
    "interval_grant",
    "source",
    "unit",
    "min_value",
    "max_value",
    "is_reported",
    "aggregation",
    "boundary",
    "product_code",
    "to_product_factor",
    "instrument",
    "system_name",
    "active",
    "active_from",
)


def _product_units() -> dict[str, tuple[str, str]]:
    return {p.code: (p.unit, p.kind) for p in energy_products()}


def _item_values(
    row: int,
    data: ItemInput,
    catalogue: core.CodeCatalogue,
    rules: core.MeteringRules,
    products: dict[str, tuple[str, str]],
    instruments: dict[str, MeteringInstrument],
) -> tuple[dict[str, Any], list[Problem]]:
    problems: list[Problem] = []
    code = data.code.strip().upper()
    for p in core.code_problems(code, catalogue):
        problems.append(Problem(row, "code", p.message(get_language() or "zh-hans")))
    if data.frequency not in (0, 1, 2):
        problems.append(
            Problem(
                row, "frequency", _("采集频率应为 0、1 或 2，实为 %(v)s") % {"v": data.frequency}
            )
        )
    if not data.name.strip():
        problems.append(Problem(row, "name", _("采集数据项指标名称不能为空")))
    if data.source not in (core.DataSource.METER, core.DataSource.MANUAL):
        problems.append(
            Problem(row, "source", _("数据采集来源应为 4 或 5，实为 %(v)s") % {"v": data.source})
        )
    interval = data.interval_minutes or rules.standard_interval_minutes
    if data.frequency == core.Frequency.REALTIME:
        if interval not in rules.allowed_interval_minutes:
            allowed = _("、").join(str(m) for m in rules.allowed_interval_minutes)
            problems.append(
                Problem(
                    row,
                    "interval_minutes",
                    _("实时采集间隔只能为 %(allowed)s 分钟，实为 %(v)s")
                    % {"allowed": allowed, "v": interval},
                )
            )
        elif interval != rules.standard_interval_minutes and not data.interval_grant.strip():
            problems.append(
                Problem(
                    row,
                    "interval_grant",
                    _("采集间隔放宽为 %(v)s 分钟须注明依据（标准为 %(std)s 分钟）")
                    % {"v": interval, "std": rules.standard_interval_minutes},
                )
            )
    if (
        data.min_value is not None
        and data.max_value is not None
        and data.min_value > data.max_value
    ):
        problems.append(Problem(row, "min_value", _("数据最小值大于最大值")))
    if problems:
        return {}, problems
    item = core.decompose(code)
    energy = catalogue.energy_codes[item.energy_code]
    unit = data.unit.strip() or energy.unit
    product_code = energy.product_code
    factor: Decimal | None = None
    if product_code:
        product_unit = products.get(product_code, ("", ""))[0]
        try:
            factor = core.to_product_factor(unit, product_unit)
        except UnitError:
            problems.append(
                Problem(
                    row,
                    "unit",
                    _("能源单位「%(unit)s」不能换算为 205-1 计量单位「%(product_unit)s」")
                    % {"unit": unit, "product_unit": product_unit},
                )
            )
    if data.boundary not in Boundary.values:
        problems.append(
            Problem(
                row, "boundary", _("平衡角色应为空、in 或 out，实为 %(v)s") % {"v": data.boundary}
            )
        )
    elif data.boundary and not product_code:
        problems.append(
            Problem(
                row,
                "boundary",
                _("只有对应 205-1 能源品种的能源数据项才能作为进出用能单位计量"),
            )
        )
    instrument = None
    if data.instrument_number:
        instrument = instruments.get(data.instrument_number)
        if instrument is None:
            problems.append(
                Problem(
                    row,
                    "instrument_number",
                    _("本单位没有编号为 %(v)s 的计量器具") % {"v": data.instrument_number},
                )
            )
    values = {
        "name": data.name.strip(),
        "process_code": item.process,
        "process_unit_code": item.process_unit,
        "equipment_type_code": item.equipment_type,
        "equipment_code": item.equipment_no,
        "data_type": item.data_type,
        "energy_code": item.energy_code,
        "use_code": item.use,
        "interval_minutes": interval if data.frequency == core.Frequency.REALTIME else 15,
        "interval_grant": data.interval_grant.strip(),
        "source": int(data.source),
        "unit": unit,
        "min_value": data.min_value,
        "max_value": data.max_value,
        "is_reported": data.is_reported,
        "aggregation": energy.aggregation.value,
        "boundary": data.boundary,
        "product_code": product_code,
        "to_product_factor": factor,
        "instrument": instrument,
        "system_name": data.system_name.strip(),
        "active": data.active,
        "active_from": data.active_from,
    }
    return values, problems


def _validate_one(entity: Entity, data: ItemInput) -> dict[str, Any]:
    """The stored values of one item (code decomposed …), or :class:`RegistryRejected`."""
    instruments = {i.number: i for i in MeteringInstrument.objects.filter(entity=entity)}
    values, problems = _item_values(
        1, data, code_catalogue(), metering_rules(), _product_units(), instruments
    )
    if problems:
        raise RegistryRejected(problems)
    return values


def save_items(*, entity: Entity, items: Sequence[ItemInput], user: Any) -> list[DataItem]:
    """Register or update data items by (code, frequency): all valid, or nothing is written."""
    if not can_configure(user, entity):
        raise PermissionDenied("only the unit's reporter or the province administrator")
    catalogue, rules, products = code_catalogue(), metering_rules(), _product_units()
    instruments = {i.number: i for i in MeteringInstrument.objects.filter(entity=entity)}
    problems: list[Problem] = []
    prepared: list[tuple[ItemInput, dict[str, Any]]] = []
    seen: set[tuple[str, int]] = set()
    for row, data in enumerate(items, start=1):
        key = (data.code.strip().upper(), data.frequency)
        if key in seen:
            problems.append(
                Problem(
                    row,
                    "code",
                    _("%(code)s（频率 %(frequency)s）重复") % {"code": key[0], "frequency": key[1]},
                )
            )
        seen.add(key)
        values, found = _item_values(row, data, catalogue, rules, products, instruments)
        problems += found
        prepared.append((data, values))
    if not items:
        problems.append(Problem(0, "items", _("没有数据项")))
    if problems:
        raise RegistryRejected(problems)
    saved: list[DataItem] = []
    with transaction.atomic():
        for data, values in prepared:
            code = data.code.strip().upper()
            item = DataItem.objects.filter(
                entity=entity, code=code, frequency=data.frequency
            ).first()
            before = snapshot(item) if item is not None else None
            if item is None:
                item = DataItem(entity=entity, code=code, frequency=data.frequency)
            for k, v in values.items():
                setattr(item, k, v)
            item.save()
            record(
                actor=user,
                action="metering.item.save",
                obj=item,
                before=before,
                after=snapshot(item),
            )
            saved.append(item)
    return saved


@dataclass
class InstrumentInput:
    number: str
    name: str
    grade: int
    kind: str = ""
    manufacturer: str = ""
    model_spec: str = ""
    accuracy_class: str = ""
    measuring_range: str = ""
    management_no: str = ""
    calibration_status: str = ""
    calibration_cycle_months: int | None = None
    last_calibration: dt.date | None = None
    next_calibration: dt.date | None = None
    calibration_body: str = ""
    not_calibrated_reason: str = ""
    location: str = ""
    installer: int | None = None
    installed: dt.date | None = None
    access_system: int | None = None
    status: int = MeteringInstrument.Status.NORMAL
    status_since: dt.date | None = None
    multiplier: Decimal = Decimal(1)


def save_instruments(
    *, entity: Entity, instruments: Sequence[InstrumentInput], user: Any
) -> list[MeteringInstrument]:
    """Register or update metering instruments by number: all valid, or nothing is written."""
    if not can_configure(user, entity):
        raise PermissionDenied("only the unit's reporter or the province administrator")
    from dualcontrol.reference.metering import instrument_kinds

    kinds = {k.code for k in instrument_kinds()}
    problems: list[Problem] = []
    seen: set[str] = set()
    for row, d in enumerate(instruments, start=1):
        if not d.number.strip():
            problems.append(Problem(row, "number", _("计量器具编号不能为空")))
        if d.number in seen:
            problems.append(Problem(row, "number", _("编号 %(v)s 重复") % {"v": d.number}))
        seen.add(d.number)
        if d.grade not in MeteringInstrument.Grade.values:
            problems.append(
                Problem(row, "grade", _("器具等级应为 1、2 或 3，实为 %(v)s") % {"v": d.grade})
            )
        if d.kind and d.kind not in kinds:
            problems.append(Problem(row, "kind", _("未知的计量器具类型 %(v)s") % {"v": d.kind}))
        if d.status not in MeteringInstrument.Status.values:
            problems.append(
                Problem(row, "status", _("目前状态应为 1、2 或 3，实为 %(v)s") % {"v": d.status})
            )
        if d.calibration_status not in MeteringInstrument.Calibration.values:
            problems.append(
                Problem(row, "calibration_status", _("检定/校准状态应为 pass、fail 或空"))
            )
        if d.installer is not None and d.installer not in MeteringInstrument.Installer.values:
            problems.append(Problem(row, "installer", _("安装方应为 1、2 或 3")))
        if (
            d.access_system is not None
            and d.access_system not in MeteringInstrument.AccessSystem.values
        ):
            problems.append(Problem(row, "access_system", _("接入系统应为 1 或 2")))
        if d.last_calibration and d.next_calibration and d.next_calibration < d.last_calibration:
            problems.append(Problem(row, "next_calibration", _("下次检定日期早于最近检定日期")))
        if d.multiplier <= 0:
            problems.append(Problem(row, "multiplier", _("倍率必须大于 0")))
    if not instruments:
        problems.append(Problem(0, "instruments", _("没有计量器具")))
    if problems:
        raise RegistryRejected(problems)
    saved = []
    with transaction.atomic():
        for d in instruments:
            inst = MeteringInstrument.objects.filter(entity=entity, number=d.number).first()
            before = snapshot(inst) if inst is not None else None
            if inst is None:
                inst = MeteringInstrument(entity=entity, number=d.number)
            for k, v in vars(d).items():
                if k != "number":
                    setattr(inst, k, v)
            inst.save()
            record(
                actor=user,
                action="metering.instrument.save",
                obj=inst,
                before=before,
                after=snapshot(inst),
            )
            saved.append(inst)
    return saved


# ---------------------------------------------------------------------------------------------
# Ingest


@dataclass
class RawReading:
    """One reading as decoded by a codec (``problem`` set when it could not be decoded)."""

    index: int
    item: str
    ts: dt.datetime | None = None
    value: float | None = None
    frequency: int | None = None
    source: int | None = None
    problem: core.ReadingProblem | None = None


@dataclass(frozen=True)
class ReadingError:
    index: int
    item: str
    ts: str
    reason: str
    message: str


@dataclass
class IngestResult:
    batch: IngestBatch
    stored: int
    duplicates: list[tuple[int, float]] = field(default_factory=list)  # (index, stored value)
    errors: list[ReadingError] = field(default_factory=list)
    queued: int = 0  # held by the stream, stored by the writers (a configured stream only)


class StreamUnavailable(Exception):
    """The stream did not acknowledge the batch: none of it was accepted (the sender resends)."""


STREAM_CHANNELS = {"api"}  # the channels that go through a configured stream (issue 22)


def _specs(entity: Entity) -> tuple[dict[str, list[core.ItemSpec]], dict[int, DataItem]]:
    by_code: dict[str, list[core.ItemSpec]] = defaultdict(list)
    items: dict[int, DataItem] = {}
    for item in DataItem.objects.filter(entity=entity):
        items[item.pk] = item
        by_code[item.code].append(
            core.ItemSpec(
                item_id=item.pk,
                code=item.code,
                frequency=core.Frequency(item.frequency),
                interval_minutes=item.interval_minutes,
                min_value=item.min_value,
                max_value=item.max_value,
                active=item.active,
            )
        )
    return by_code, items


def ingest(
    *,
    entity: Entity,
    readings: Sequence[RawReading],
    user: Any,
    channel: str = "api",
    codec: str = "",
    now: dt.datetime | None = None,
    roll_up: bool = True,
    lang: str = "zh-hans",
    via_stream: bool | None = None,
) -> IngestResult:
    """Check and store a batch; valid readings are kept even when others are refused.

    With a stream configured (:func:`dualcontrol.metering.stream.configured`) a batch of a
    channel in :data:`STREAM_CHANNELS` (``via_stream`` None), or any batch (``via_stream``
    True), is checked the same way and its accepted readings are published to the stream
    instead (:func:`_ingest_via_stream`); :class:`StreamUnavailable` when the stream does not
    acknowledge them.
    """
    if channel not in SYSTEM_CHANNELS and not can_upload(user, entity):
        raise PermissionDenied("only the unit's own access system uploads its data")
    stream_servers = _stream_servers(channel, via_stream)
    rules = metering_rules()
    received_at = now or timezone.now()
    now_local = local_now(received_at)
    by_code, items = _specs(entity)
    errors: list[ReadingError] = []
    tallies: dict[tuple[int, dt.date, str], int] = defaultdict(int)
    accepted: dict[tuple[int, dt.datetime], tuple[int, float, int]] = {}
    in_batch_dups: list[tuple[int, tuple[int, dt.datetime]]] = []

    def refuse(r: RawReading, problem: core.ReadingProblem, item_id: int | None = None) -> None:
        ts_text = r.ts.isoformat() if r.ts is not None else ""
        errors.append(ReadingError(r.index, r.item, ts_text, problem.key, problem.message(lang)))
        if item_id is not None and r.ts is not None:
            tallies[(item_id, to_local(r.ts).date(), problem.key)] += 1

    for r in readings:
        if r.problem is not None:
            refuse(r, r.problem)
            continue
        found = core.resolve_item(r.item, r.frequency, by_code)
        if isinstance(found, core.ReadingProblem):
            refuse(r, found)
            continue
        item = items[found.item_id]
        source = r.source if r.source is not None else item.source
        if source not in (core.DataSource.METER, core.DataSource.MANUAL):
            refuse(r, core.ReadingProblem("bad_source", {"value": str(source)}), found.item_id)
            continue
        assert r.ts is not None and r.value is not None
        grid, problem = core.check_reading(found, to_local(r.ts), float(r.value), now_local, rules)
        if problem is not None:
            refuse(r, problem, found.item_id)
            continue
        assert grid is not None
        key = (found.item_id, grid)
        if key in accepted:
            in_batch_dups.append((r.index, key))
            continue
        accepted[key] = (r.index, float(r.value), int(source))

    if stream_servers is not None:
        return _ingest_via_stream(
            servers=stream_servers,
            entity=entity,
            n_readings=len(readings),
            user=user,
            channel=channel,
            codec=codec,
            received_at=received_at,
            accepted=accepted,
            in_batch_dups=in_batch_dups,
            errors=errors,
            tallies=tallies,
        )
    keys = list(accepted)
    stamps = [aware(ts) for _, ts in keys]
    epochs = [int(t.timestamp()) for t in stamps]
    storage.ensure_partitions(storage.months_of(stamps))
    with transaction.atomic():
        batch = IngestBatch.objects.create(
            entity=entity,
            received_at=received_at,
            user=user if getattr(user, "pk", None) else None,
            channel=channel,
            codec=codec,
            n_readings=len(readings),
        )
        rows: list[storage.Row] = [
            (key[0], ts, accepted[key][1], accepted[key][2], batch.pk)
            for key, ts in zip(keys, stamps, strict=True)
        ]
        result = storage.write(rows)
        epoch_of = dict(zip(keys, epochs, strict=True))
        dup_keys = {k for k in keys if (k[0], epoch_of[k]) in result.duplicates}
        stored_values: dict[tuple[int, int], float] = {}
        all_dups = dup_keys | {k for _, k in in_batch_dups}
        if all_dups:
            stored_values = storage.existing_keys([(i, aware(t)) for i, t in all_dups])
        duplicates = [
            (accepted[k][0], stored_values.get((k[0], epoch_of[k]), math.nan)) for k in dup_keys
        ] + [
            (index, stored_values.get((k[0], epoch_of[k]), accepted[k][1]))
            for index, k in in_batch_dups
        ]
        duplicates.sort()
        stored_ts = [ts for (item_id, ts) in accepted if (item_id, ts) not in dup_keys]
        batch.n_stored = len(result.stored)
        batch.n_duplicates = len(duplicates)
        batch.n_rejected = len(errors)
        batch.first_ts = aware(min(stored_ts)) if stored_ts else None
        batch.last_ts = aware(max(stored_ts)) if stored_ts else None
        batch.errors = [vars(e) for e in errors[:MAX_ERRORS_KEPT]]
        batch.save()
        _tally(tallies)
        touched = _touch_items(items, accepted, dup_keys, received_at)
        record(
            actor=user,
            action="metering.ingest",
            obj=batch,
            after={
                "readings": batch.n_readings,
                "stored": batch.n_stored,
                "duplicates": batch.n_duplicates,
                "rejected": batch.n_rejected,
                "channel": channel,
                "codec": codec,
            },
            note=f"{entity.uscc} {channel}",
        )
        if roll_up and touched:
            days = sorted({ts.date() for (_, ts) in accepted})
            for day in days:
                rollup(day=day, items=[items[i] for i in touched], now=received_at)
    return IngestResult(batch=batch, stored=batch.n_stored, duplicates=duplicates, errors=errors)


def _stream_servers(channel: str, via_stream: bool | None) -> str | None:
    """The stream's servers when this batch goes through it, else None (the database)."""
    from dualcontrol.metering import stream

    servers = stream.configured()
    wanted = channel in STREAM_CHANNELS if via_stream is None else via_stream
    if not wanted:
        return None
    if servers is None:
        if via_stream:
            raise WorkflowError("no metering stream is configured (METERING_STREAM)")
        return None
    return servers


def _ingest_via_stream(
    *,
    servers: str,
    entity: Entity,
    n_readings: int,
    user: Any,
    channel: str,
    codec: str,
    received_at: dt.datetime,
    accepted: dict[tuple[int, dt.datetime], tuple[int, float, int]],
    in_batch_dups: list[tuple[int, tuple[int, dt.datetime]]],
    errors: list[ReadingError],
    tallies: dict[tuple[int, dt.date, str], int],
) -> IngestResult:
    """The receiver's half of a streamed batch (issue 22).

    1. The batch is logged (:class:`IngestBatch`, the refused readings and their tallies) and
       committed, so that a writer can count what it stores against it;
    2. readings already in the readings table are answered as duplicates with their stored value
       (as on the direct path; a read); the others are published with the message id
       ``item|epoch`` and this call waits for the stream's acknowledgements — a reading the stream
       already holds (sent again inside its duplicate window) is a duplicate too;
    3. the batch's counts and one audit entry are written.  When the stream does not acknowledge
       every reading, the batch is marked refused (audited) and :class:`StreamUnavailable` is
       raised: the sender is answered that nothing was accepted and sends again.
    """
    import time

    from dualcontrol.ingest.stream import StreamPublishError
    from dualcontrol.metering import stream

    cfg = stream.config(servers)
    keys = list(accepted)
    epoch_of = {k: int(aware(k[1]).timestamp()) for k in keys}
    for _index, k in in_batch_dups:
        epoch_of.setdefault(k, int(aware(k[1]).timestamp()))
    looked_up = sorted(set(keys) | {k for _index, k in in_batch_dups})
    stored_values = storage.existing_keys([(i, aware(t)) for i, t in looked_up]) if keys else {}
    fresh = [k for k in keys if (k[0], epoch_of[k]) not in stored_values]
    with transaction.atomic():
        batch = IngestBatch.objects.create(
            entity=entity,
            received_at=received_at,
            user=user if getattr(user, "pk", None) else None,
            channel=channel,
            codec=codec,
            n_readings=n_readings,
            n_rejected=len(errors),
            errors=[vars(e) for e in errors[:MAX_ERRORS_KEPT]],
            first_ts=aware(min(k[1] for k in fresh)) if fresh else None,
            last_ts=aware(max(k[1] for k in fresh)) if fresh else None,
        )
        _tally(tallies)
    now = time.time()
    out = [
        stream.StreamedReading(
            item_id=k[0],
            epoch=epoch_of[k],
            value=accepted[k][1],
            source=accepted[k][2],
            batch_id=batch.pk,
            entity_id=entity.pk,
            received=now,
        )
        for k in fresh
    ]
    try:
        held = stream.publish(out, cfg)
    except StreamPublishError as exc:
        with transaction.atomic():
            problem = {
                "index": -1,
                "item": "",
                "ts": "",
                "reason": "stream_unavailable",
                "message": _("消息流不可用，本批未被接受，请重发") + f" ({str(exc)[:400]})",
            }
            IngestBatch.objects.filter(pk=batch.pk).update(
                n_rejected=n_readings, errors=[problem, *batch.errors][:MAX_ERRORS_KEPT]
            )
            record(
                actor=user,
                action="metering.ingest.refused",
                obj=batch,
                after={"readings": n_readings, "reason": "stream_unavailable"},
                note=f"{entity.uscc} {channel}: {exc}"[:1000],
            )
        raise StreamUnavailable(str(exc)) from exc
    in_stream = {k for k, dup in zip(fresh, held, strict=True) if dup}
    fresh_set = set(fresh)
    duplicates = (
        [(accepted[k][0], stored_values[(k[0], epoch_of[k])]) for k in keys if k not in fresh_set]
        + [(accepted[k][0], math.nan) for k in fresh if k in in_stream]
        + [
            (index, stored_values.get((k[0], epoch_of[k]), accepted[k][1]))
            for index, k in in_batch_dups
        ]
    )
    duplicates.sort()
    queued = len(fresh) - len(in_stream)
    with transaction.atomic():
        # the writers may already be adding to n_stored / n_duplicates: increments only
        IngestBatch.objects.filter(pk=batch.pk).update(
            n_duplicates=F("n_duplicates") + len(duplicates)
        )
        batch.refresh_from_db()
        record(
            actor=user,
            action="metering.ingest",
            obj=batch,
            after={
                "readings": n_readings,
                "queued": queued,
                "duplicates": len(duplicates),
                "rejected": len(errors),
                "channel": channel,
                "codec": codec,
                "stream": cfg.name,
            },
            note=f"{entity.uscc} {channel} → {cfg.name}",
        )
    return IngestResult(batch=batch, stored=0, queued=queued, duplicates=duplicates, errors=errors)


@dataclass(frozen=True)
class StreamStoreResult:
    stored: int
    duplicates: int
    rolled_up: int = 0


def store_streamed(
    *, readings: Sequence[Any], roll_up: bool = True, now: dt.datetime | None = None
) -> StreamStoreResult:
    """The storage writer's half of streamed batches (``metering.stream.StreamedReading``).

    In one transaction: the readings through :func:`storage.write` (idempotent on item and time:
    a redelivered reading is a duplicate), each batch's stored and duplicate counts, the items'
    newest time and last reception, and — ``roll_up`` — the day roll-up of the touched items, as
    the direct path does.  A reading whose item was deleted meanwhile is dropped (counted as a
    duplicate).  The writer acknowledges the messages only once this returned.
    """
    if not readings:
        return StreamStoreResult(0, 0)
    received_now = now or timezone.now()
    unique: dict[tuple[int, int], Any] = {}
    for r in readings:
        unique.setdefault((r.item_id, r.epoch), r)
    stamps = {key: dt.datetime.fromtimestamp(key[1], dt.UTC) for key in unique}
    storage.ensure_partitions(storage.months_of(stamps.values()))
    with transaction.atomic():
        items = {
            i.pk: i
            for i in DataItem.objects.select_for_update()
            .filter(pk__in=sorted({k[0] for k in unique}))
            .order_by("pk")
        }
        rows: list[storage.Row] = [
            (key[0], stamps[key], r.value, r.source, r.batch_id)
            for key, r in unique.items()
            if key[0] in items
        ]
        result = storage.write(rows)
        per_batch: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        newest: dict[int, dt.datetime] = {}
        for key, r in unique.items():
            new = key in result.stored
            if r.batch_id is not None:
                per_batch[r.batch_id][0 if new else 1] += 1
            if new and (key[0] not in newest or stamps[key] > newest[key[0]]):
                newest[key[0]] = stamps[key]
        for batch_id, (n_new, n_dup) in sorted(per_batch.items()):
            IngestBatch.objects.filter(pk=batch_id).update(
                n_stored=F("n_stored") + n_new, n_duplicates=F("n_duplicates") + n_dup
            )
        changed = []
        for item_id, ts in newest.items():
            item = items[item_id]
            if item.last_ts is None or ts > item.last_ts:
                item.last_ts = ts
            item.last_received = received_now
            changed.append(item)
        if changed:
            DataItem.objects.bulk_update(changed, ["last_ts", "last_received"])
        rolled = 0
        if roll_up and newest:
            days: dict[dt.date, set[int]] = defaultdict(set)
            for key in unique:
                if key[0] in newest:
                    days[to_local(stamps[key]).date()].add(key[0])
            for day, ids in sorted(days.items()):
                rolled += rollup(day=day, items=[items[i] for i in sorted(ids)], now=received_now)
    return StreamStoreResult(
        stored=len(result.stored), duplicates=len(unique) - len(result.stored), rolled_up=rolled
    )


def _tally(tallies: dict[tuple[int, dt.date, str], int]) -> None:
    for (item_id, day, reason), n in tallies.items():
        updated = RejectTally.objects.filter(item_id=item_id, day=day, reason=reason).update(
            n=F("n") + n
        )
        if not updated:
            RejectTally.objects.create(item_id=item_id, day=day, reason=reason, n=n)


def _touch_items(
    items: dict[int, DataItem],
    accepted: dict[tuple[int, dt.datetime], tuple[int, float, int]],
    dup_keys: set[tuple[int, dt.datetime]],
    received_at: dt.datetime,
) -> list[int]:
    newest: dict[int, dt.datetime] = {}
    for item_id, ts in accepted:
        if (item_id, ts) in dup_keys:
            continue
        if item_id not in newest or ts > newest[item_id]:
            newest[item_id] = ts
    changed = []
    for item_id, ts in newest.items():
        item = items[item_id]
        t = aware(ts)
        if item.last_ts is None or t > item.last_ts:
            item.last_ts = t
        item.last_received = received_at
        changed.append(item)
    if changed:
        DataItem.objects.bulk_update(changed, ["last_ts", "last_received"])
    return sorted(newest)


def enter_manual(
    *,
    entity: Entity,
    item: DataItem,
    month: dt.date,
    value: float,
    user: Any,
    now: dt.datetime | None = None,
) -> IngestResult:
    """A manual monthly entry (手工填报) of a monthly item, through the same checks."""
    if item.entity_id != entity.pk:
        raise PermissionDenied("the item belongs to another unit")
    reading = RawReading(
        index=0,
        item=item.code,
        ts=aware(dt.datetime.combine(month.replace(day=1), dt.time())),
        value=value,
        frequency=item.frequency,
        source=core.DataSource.MANUAL,
    )
    return ingest(entity=entity, readings=[reading], user=user, channel="form", now=now)


# ---------------------------------------------------------------------------------------------
# Roll-up


def expected_in(
    item: DataItem, start: dt.datetime, end: dt.datetime, now_local: dt.datetime
) -> int:
    """Readings the item owes in [start, end) (local naive), counted up to ``now``.

    A grid point is owed once its interval has ended; nothing before the item's start date or
    while it is inactive. (Cached on the item's configuration: a province has few distinct ones.)
    """
    return _expected(
        item.active, item.frequency, item.interval_minutes, item.active_from, start, end, now_local
    )


@lru_cache(maxsize=8192)
def _expected(
    active: bool,
    frequency: int,
    interval_minutes: int,
    active_from: dt.date | None,
    start: dt.datetime,
    end: dt.datetime,
    now_local: dt.datetime,
) -> int:
    if not active:
        return 0
    freq = core.Frequency(frequency)
    if active_from is not None:
        start = max(start, dt.datetime.combine(active_from, dt.time()))
    if freq == core.Frequency.MONTHLY:
        n = 0
        point = dt.datetime.combine(core.month_start(start.date()), dt.time())
        if point < start:
            point = dt.datetime.combine(core.next_month(point.date()), dt.time())
        while point < end and core.period_end(point, freq, 15) <= now_local:
            n += 1
            point = dt.datetime.combine(core.next_month(point.date()), dt.time())
        return n
    probe = dt.datetime(2000, 1, 1)
    length = core.period_end(probe, freq, interval_minutes) - probe
    end = min(end, now_local - length + dt.timedelta(seconds=1))
    return core.expected_count(freq, interval_minutes, start, end)


def rollup(
    *,
    day: dt.date,
    entity: Entity | None = None,
    items: Sequence[DataItem] | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Roll up one day for the given items (an entity's, or every real-time/daily item)."""
    rules = metering_rules()
    now_local = local_now(now)
    if items is None:
        qs = DataItem.objects.exclude(frequency=core.Frequency.MONTHLY).only(
            "entity_id", "frequency", "interval_minutes", "active", "active_from", "aggregation"
        )
        if entity is not None:
            qs = qs.filter(entity=entity)
        items = list(qs.order_by("pk"))
    else:
        items = [i for i in items if i.frequency != core.Frequency.MONTHLY]
    if not items:
        return 0
    start, end = day_bounds(day)
    by_id = {i.pk: i for i in items}
    # Items go to the database in chunks: each chunk is read through the (item_id, ts) primary
    # key, so the cost follows the day's readings, not the size of the month's partition.
    ids = sorted(by_id)
    chunks = [ids[k : k + ROLLUP_CHUNK] for k in range(0, len(ids), ROLLUP_CHUNK)]
    aggs = {a.item_id: a for chunk in chunks for a in storage.aggregates(start, end, chunk)}
    min_points = (
        min(
            core.stuck_min_points(i.interval_minutes, rules)
            for i in items
            if i.frequency == core.Frequency.REALTIME
        )
        if any(i.frequency == core.Frequency.REALTIME for i in items)
        else None
    )
    runs: dict[int, list[storage.RunRow]] = defaultdict(list)
    if min_points is not None:
        found = [
            run
            for chunk in chunks
            for run in storage.identical_runs(
                start, end, min_points, chunk, ignore_zero=rules.stuck_ignore_zero
            )
        ]
        for run in found:
            item = by_id.get(run.item_id)
            if (
                item is not None
                and item.frequency == core.Frequency.REALTIME
                and run.count >= core.stuck_min_points(item.interval_minutes, rules)
            ):
                runs[run.item_id].append(run)
    day_start = dt.datetime.combine(day, dt.time())
    computed = timezone.now()
    rows = []
    for item in items:
        expected = expected_in(item, day_start, day_start + dt.timedelta(days=1), now_local)
        a = aggs.get(item.pk)
        if a is None and expected == 0:
            continue
        item_runs = sorted(runs.get(item.pk, []), key=lambda r: r.start)
        total = None
        if a is not None:
            total = a.total if item.aggregation == DataItem.Aggregation.SUM else a.mean
        rows.append(
            ItemDay(
                item_id=item.pk,
                day=day,
                expected=expected,
                received=a.n if a else 0,
                total=total,
                min_value=a.min_value if a else None,
                max_value=a.max_value if a else None,
                first_ts=a.first_ts if a else None,
                last_ts=a.last_ts if a else None,
                max_run=max((r.count for r in item_runs), default=0),
                stuck=[
                    {
                        "value": r.value,
                        "count": r.count,
                        "start": to_local(r.start).isoformat(sep=" ", timespec="minutes"),
                        "end": to_local(r.end).isoformat(sep=" ", timespec="minutes"),
                    }
                    for r in item_runs
                ],
                computed_at=computed,
            )
        )
    fields = [
        "expected",
        "received",
        "total",
        "min_value",
        "max_value",
        "first_ts",
        "last_ts",
        "max_run",
        "stuck",
        "computed_at",
    ]
    for k in range(0, len(rows), 2000):
        ItemDay.objects.bulk_create(
            rows[k : k + 2000],
            update_conflicts=True,
            unique_fields=["item", "day"],
            update_fields=fields,
        )
    return len(rows)


def rollup_all(*, day: dt.date, user: Any = None, now: dt.datetime | None = None) -> int:
    """The nightly job: roll up every item for ``day`` and record it in the audit log."""
    with transaction.atomic():
        n = rollup(day=day, now=now)
        record(
            actor=user,
            action="metering.rollup",
            object_type="metering.itemday",
            object_repr=day.isoformat(),
            after={"day": day.isoformat(), "rows": n},
        )
    return n


# ---------------------------------------------------------------------------------------------
# Alerts and checks


def recipients_of(entity: Entity) -> list[User]:
    """The unit's reporters and the city officers whose region contains the unit."""
    path = entity.division.path
    officers = [
        u
        for u in User.objects.filter(role=Role.CITY_OFFICER, is_active=True).select_related(
            "division"
        )
        if u.division is not None and path.startswith(u.division.path)
    ]
    own = list(User.objects.filter(role=Role.ENTERPRISE, entity=entity, is_active=True))
    return own + officers


def _raise_alert(
    *,
    entity: Entity,
    kind: str,
    day: dt.date,
    item: DataItem | None = None,
    params: dict[str, Any],
    suffix: str = "",
    now: dt.datetime,
) -> Alert | None:
    """Store (and mail) an alert; its text is written in the platform's language from
    ``params`` (:func:`dualcontrol.metering.models.alert_text`), the pages translate it."""
    key = f"{entity.pk}:{kind}:{day.isoformat()}:{item.pk if item else ''}:{suffix}"[:96]
    if Alert.objects.filter(key=key).exists():
        return None
    if (
        kind in (AlertKind.LATE_UPLOAD, AlertKind.FAULT_OVERDUE)
        and Alert.objects.filter(entity=entity, kind=kind, resolved_at__isnull=True).exists()
    ):
        return None  # a lasting condition is one alert until the checks resolve it
    people = recipients_of(entity)
    with translation.override(settings.LANGUAGE_CODE):
        message = alert_text(kind, day, params, item) or ""
        subject = f"[能耗在线监测] {entity.name} {AlertKind(kind).label}"
    alert = Alert.objects.create(
        entity=entity,
        item=item,
        kind=kind,
        day=day,
        key=key,
        message=message,
        params=params,
        created=now,
        recipients=[u.username for u in people],
    )
    emails = sorted({u.email for u in people if u.email} | ({entity.contact_email} - {""}))
    usable = [e for e in emails if _valid_email(e)]  # the in-app alert reaches the others
    if usable:
        from dualcontrol.jobs.services import enqueue_mail

        # through the outbox: sent by the worker, retried while the mail server is down
        enqueue_mail(
            to=usable,
            subject=subject,
            body=f"{entity.name}（{entity.uscc}）{day:%Y-%m-%d}：{message}",
            origin=f"metering.alert:{alert.pk}",
        )
    return alert


def _valid_email(address: str) -> bool:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


@dataclass
class CheckSummary:
    raised: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    resolved: int = 0
    units: int = 0


def run_checks(
    *,
    now: dt.datetime | None = None,
    entities: Iterable[Entity] | None = None,
    user: Any = None,
    parts: Iterable[str] | None = None,
) -> CheckSummary:
    """Quality checks at ``now`` for yesterday, the last month and the uploads in progress.

    ``parts`` limits the checks to some of: uploads (late / stopped, 报备 overdue), day
    (yesterday's completeness, stuck meters, out-of-range), month (day-vs-month consistency of
    the last month), calibration.
    """
    wanted = set(parts) if parts is not None else {"uploads", "day", "month", "calibration"}
    rules = metering_rules()
    now = now or timezone.now()
    now_local = local_now(now)
    today = now_local.date()
    yesterday = today - dt.timedelta(days=1)
    last_month = core.month_start(core.month_start(today) - dt.timedelta(days=1))
    summary = CheckSummary()
    units = (
        list(entities)
        if entities is not None
        else list(Entity.objects.filter(online_monitoring=True).select_related("division"))
    )
    with transaction.atomic():
        for entity in units:
            items = list(DataItem.objects.filter(entity=entity, active=True))
            if not items:
                continue
            summary.units += 1
            if "uploads" in wanted:
                _check_uploads(entity, items, now, now_local, rules, summary)
            if "day" in wanted:
                _check_yesterday(entity, items, yesterday, now, now_local, rules, summary)
            if "month" in wanted:
                _check_month(entity, items, last_month, now, rules, summary)
            if "calibration" in wanted:
                _check_calibration(entity, today, now, rules, summary)
        record(
            actor=user,
            action="metering.check",
            object_type="metering.alert",
            object_repr=now_local.isoformat(sep=" ", timespec="minutes"),
            after={
                "units": summary.units,
                "raised": dict(summary.raised),
                "resolved": summary.resolved,
            },
        )
    return summary


def _open_fault(entity: Entity, at: dt.datetime) -> FaultReport | None:
    return (
        FaultReport.objects.filter(
            entity=entity,
            status__in=[FaultReport.Status.FILED, FaultReport.Status.ACCEPTED],
            started__lte=at,
        )
        .order_by("-started")
        .first()
    )


def _check_uploads(
    entity: Entity,
    items: list[DataItem],
    now: dt.datetime,
    now_local: dt.datetime,
    rules: core.MeteringRules,
    summary: CheckSummary,
) -> None:
    realtime = [i for i in items if i.frequency == core.Frequency.REALTIME and i.is_reported]
    if not realtime:
        return
    last = max((i.last_ts for i in realtime if i.last_ts is not None), default=None)
    last_local = to_local(last) if last is not None else None
    open_late = Alert.objects.filter(
        entity=entity,
        kind__in=[AlertKind.LATE_UPLOAD, AlertKind.FAULT_OVERDUE],
        resolved_at__isnull=True,
    )
    if not core.upload_late(last_local, now_local, rules):
        summary.resolved += open_late.update(resolved_at=now)
        return
    since = last_local.isoformat(sep=" ", timespec="minutes") if last_local else "—"
    if _raise_alert(
        entity=entity,
        kind=AlertKind.LATE_UPLOAD,
        day=now_local.date(),
        params={"last": since, "after_minutes": rules.late_after_minutes},
        now=now,
    ):
        summary.raised[AlertKind.LATE_UPLOAD] += 1
    if last_local is None:
        return
    calendar = work_calendar()
    overdue = core.working_days_between(last_local.date(), now_local.date(), calendar)
    if overdue <= rules.fault_repair_working_days or _open_fault(entity, now) is not None:
        return
    params: dict[str, Any] = {
        "since": since,
        "working_days": overdue,
        "limit_days": rules.fault_repair_working_days,
    }
    fallback = calendar.uncovered_years(last_local.date(), now_local.date())
    if fallback:  # no holiday notice for these years: counted Monday–Friday, and said so
        params["weekday_fallback_years"] = list(fallback)
    if _raise_alert(
        entity=entity,
        kind=AlertKind.FAULT_OVERDUE,
        day=now_local.date(),
        params=params,
        now=now,
    ):
        summary.raised[AlertKind.FAULT_OVERDUE] += 1


def _check_yesterday(
    entity: Entity,
    items: list[DataItem],
    day: dt.date,
    now: dt.datetime,
    now_local: dt.datetime,
    rules: core.MeteringRules,
    summary: CheckSummary,
) -> None:
    daily = [i for i in items if i.frequency != core.Frequency.MONTHLY and i.is_reported]
    if not daily:
        return
    start = dt.datetime.combine(day, dt.time())
    days = {d.item_id: d for d in ItemDay.objects.filter(item__in=daily, day=day)}
    expected = sum(expected_in(i, start, start + dt.timedelta(days=1), now_local) for i in daily)
    received = sum(
        min(days[i.pk].received, expected_in(i, start, start + dt.timedelta(days=1), now_local))
        for i in daily
        if i.pk in days
    )
    frac = core.completeness(received, expected)
    if (
        frac is not None
        and not core.complete_enough(frac, rules)
        and _raise_alert(
            entity=entity,
            kind=AlertKind.INCOMPLETE_DAY,
            day=day,
            params={
                "received": received,
                "expected": expected,
                "frac": frac,
                "min_frac": rules.completeness_min_frac,
            },
            now=now,
        )
    ):
        summary.raised[AlertKind.INCOMPLETE_DAY] += 1
    by_id = {i.pk: i for i in items}
    for d in days.values():
        for run in d.stuck:
            item = by_id[d.item_id]
            if _raise_alert(
                entity=entity,
                kind=AlertKind.STUCK_METER,
                day=day,
                item=item,
                suffix=run["start"][11:16],
                params=run,
                now=now,
            ):
                summary.raised[AlertKind.STUCK_METER] += 1
    for t in RejectTally.objects.filter(
        item__in=items, day=day, reason="out_of_range"
    ).select_related("item"):
        if _raise_alert(
            entity=entity,
            kind=AlertKind.OUT_OF_RANGE,
            day=day,
            item=t.item,
            params={"n": t.n, "min": t.item.min_value, "max": t.item.max_value},
            now=now,
        ):
            summary.raised[AlertKind.OUT_OF_RANGE] += 1


def _check_month(
    entity: Entity,
    items: list[DataItem],
    month: dt.date,
    now: dt.datetime,
    rules: core.MeteringRules,
    summary: CheckSummary,
) -> None:
    from dualcontrol.metering.queries import consistency_of

    for c in consistency_of(entity, month, items=items):
        if c.result is None or c.result.ok:
            continue
        if _raise_alert(
            entity=entity,
            kind=AlertKind.INCONSISTENT,
            day=month,
            item=c.monthly_item,
            params={
                "daily_total": c.result.daily_total,
                "monthly": c.result.monthly,
                "deviation_frac": c.result.deviation_frac,
                "max_dev_frac": rules.consistency_max_dev_frac,
            },
            now=now,
        ):
            summary.raised[AlertKind.INCONSISTENT] += 1


def _check_calibration(
    entity: Entity,
    today: dt.date,
    now: dt.datetime,
    rules: core.MeteringRules,
    summary: CheckSummary,
) -> None:
    horizon = today + dt.timedelta(days=rules.calibration_warn_days)
    due = {i.number: i.next_calibration for i in MeteringInstrument.objects.filter(entity=entity)}
    for alert in Alert.objects.filter(
        entity=entity, kind=AlertKind.CALIBRATION_DUE, resolved_at__isnull=True
    ):
        nxt = due.get(alert.params.get("number"))
        if nxt is None or nxt > horizon:  # recalibrated (or removed)
            alert.resolved_at = now
            alert.save(update_fields=["resolved_at"])
            summary.resolved += 1
    for inst in MeteringInstrument.objects.filter(
        entity=entity, next_calibration__lte=horizon
    ).exclude(status=MeteringInstrument.Status.DISABLED):
        assert inst.next_calibration is not None
        overdue = inst.next_calibration < today
        if _raise_alert(
            entity=entity,
            kind=AlertKind.CALIBRATION_DUE,
            day=inst.next_calibration,
            suffix=inst.number,
            params={"number": inst.number, "name": inst.name, "overdue": overdue},
            now=now,
        ):
            summary.raised[AlertKind.CALIBRATION_DUE] += 1


# ---------------------------------------------------------------------------------------------
# 报备 (fault reports)


def _fault_state(f: FaultReport) -> dict[str, Any]:
    return {"status": f.status, "expected_repair": f.expected_repair.isoformat()}


def file_fault(
    *,
    entity: Entity,
    user: Any,
    started: dt.datetime,
    expected_repair: dt.date,
    reason: str,
    items: Sequence[DataItem] = (),
    manual_filing: bool = True,
    now: dt.datetime | None = None,
) -> FaultReport:
    """The unit reports a fault (报备); the repair deadline of the rules is stated in the alert."""
    if not can_file_for(user, entity):
        raise PermissionDenied("only the unit's own reporter files its fault reports")
    if not reason.strip():
        raise WorkflowError(_("必须填写故障原因及处理措施"))
    now = now or timezone.now()
    # a time without a zone (an API client's "2026-05-01T10:00:00") is the platform's local time
    started = aware(to_local(started))
    if started > now:
        raise WorkflowError(_("故障开始时间不能晚于当前时间"))
    if expected_repair < to_local(started).date():
        raise WorkflowError(_("预计修复日期不能早于故障开始日期"))
    if any(i.entity_id != entity.pk for i in items):
        raise PermissionDenied("an item belongs to another unit")
    with transaction.atomic():
        fault = FaultReport.objects.create(
            entity=entity,
            started=started,
            expected_repair=expected_repair,
            reason=reason.strip(),
            manual_filing=manual_filing,
            filed_by=user,
            filed_at=now,
        )
        fault.items.set(items)
        record(actor=user, action="metering.fault.file", obj=fault, after=_fault_state(fault))
    return fault


def review_fault(*, fault: FaultReport, user: Any, accept: bool, note: str = "") -> FaultReport:
    """City officers of the region or province staff confirm (accept) or return a 报备."""
    if not can_review(user, fault.entity):
        raise PermissionDenied("not a reviewer of this unit")
    if not accept and not note.strip():
        raise WorkflowError(_("退回必须填写意见"))
    with transaction.atomic():
        fault = FaultReport.objects.select_for_update().get(pk=fault.pk)
        if fault.status != FaultReport.Status.FILED:
            raise WorkflowError(
                _("状态为「%(status)s」的报备不能审核") % {"status": fault.get_status_display()}
            )
        before = _fault_state(fault)
        fault.status = FaultReport.Status.ACCEPTED if accept else FaultReport.Status.RETURNED
        fault.reviewed_by, fault.reviewed_at, fault.review_note = user, timezone.now(), note.strip()
        fault.save()
        record(
            actor=user,
            action="metering.fault.accept" if accept else "metering.fault.return",
            obj=fault,
            before=before,
            after=_fault_state(fault),
            note=note.strip(),
        )
    return fault


def close_fault(*, fault: FaultReport, user: Any, repaired_at: dt.datetime) -> FaultReport:
    """The unit (or a reviewer) records the repair."""
    if not (can_file_for(user, fault.entity) or can_review(user, fault.entity)):
        raise PermissionDenied("not the unit's reporter nor a reviewer")
    with transaction.atomic():
        fault = FaultReport.objects.select_for_update().get(pk=fault.pk)
        if fault.status not in (FaultReport.Status.FILED, FaultReport.Status.ACCEPTED):
            raise WorkflowError(
                _("状态为「%(status)s」的报备不能关闭") % {"status": fault.get_status_display()}
            )
        if repaired_at < fault.started:
            raise WorkflowError(_("修复时间不能早于故障开始时间"))
        before = _fault_state(fault)
        fault.status = FaultReport.Status.CLOSED
        fault.repaired_at = repaired_at
        fault.save()
        record(
            actor=user,
            action="metering.fault.close",
            obj=fault,
            before=before,
            after=_fault_state(fault),
        )
    return fault


def explain_gap(
    *, entity: Entity, year: int, month: int, product_code: str, text: str, user: Any
) -> GapExplanation:
    """The unit's explanation of the meters-vs-205-1 gap of one product and month."""
    if not can_file_for(user, entity):
        raise PermissionDenied("only the unit's own reporter explains its gaps")
    if not text.strip():
        raise WorkflowError(_("说明不能为空"))
    with transaction.atomic():
        old = GapExplanation.objects.filter(
            entity=entity, year=year, month=month, product_code=product_code
        ).first()
        before = {"text": old.text} if old else None
        obj, _created = GapExplanation.objects.update_or_create(
            entity=entity,
            year=year,
            month=month,
            product_code=product_code,
            defaults={"text": text.strip(), "by": user, "at": timezone.now()},
        )
        record(
            actor=user,
            action="metering.gap.explain",
            obj=obj,
            before=before,
            after={"text": obj.text},
        )
    return obj
