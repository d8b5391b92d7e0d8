"""Regional statistics (地区统计数据): import and the series the tracking reads.

A statistics file (CSV in UTF-8 or GB18030/GBK, or .xlsx) has one row per region (or sector of a
region, column ``industry``) and period: ``region,year`` and optionally ``month`` or ``quarter``
(January to that month / the first q quarters), ``source``, ``industry``, and any column of the
catalogue's statistics (``energy_tce``, ``gdp_10k_yuan``, ``gdp_real_growth_pct``, ``co2_t``,
``non_fossil_tce``, ``coal_t`` …, the 14th-FYP deduction columns) or of the regional CO2 accounting
(energy by fuel, ``reference/data/regional_co2_fuels.csv``), from which ``co2_t`` is computed with
its provenance when the row does not give it.  Any other column is a numeric decomposition factor.

A row for a period not yet stored needs ``energy_tce`` and ``gdp_10k_yuan``; a row for a stored
period updates only the columns the file gives.  Every cell is checked first; any error rejects the
whole file (:class:`StatisticsRejected`, every problem with its row and column) and nothing is
written.  Only province staff import statistics.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dualcontrol.access.targets import is_province
from dualcontrol.audit.services import record
from dualcontrol.core.tracking import StatFigure, StatSeries
from dualcontrol.dbstats import analyze_after_commit
from dualcontrol.entities.models import Industry
from dualcontrol.formats.upload_tables import CellError, TableRefused, column_letter, read_upload
from dualcontrol.reference.catalogue import catalogue
from dualcontrol.regions.models import Division
from dualcontrol.targets.errors import NotAllowed, StatisticsRejected
from dualcontrol.targets.models import RegionalStatistic

REQUIRED_STAT_COLUMNS = ("region", "year", "energy_tce", "gdp_10k_yuan", "gdp_real_growth_pct")
KEY_COLUMNS = ("region", "year")
OPTIONAL_STAT_COLUMNS = ("month", "quarter", "source", "industry")
FIELD_COLUMNS = ("energy_tce", "gdp_10k_yuan", "gdp_real_growth_pct")


def _dec(value: str) -> Decimal | None:
    try:
        d = Decimal(value.strip().replace(",", ""))
    except (InvalidOperation, AttributeError):
        return None
    return d if d.is_finite() else None


def check_value(
    column: str, text: str, *, known: frozenset[str] | None = None
) -> tuple[Decimal | None, str | None]:
    """(the number, None) of a statistics cell, or (None, why it is refused) — the import's rule
    for every column, shared by the self-reported statistics (:func:`merge_reported_columns`).
    ``known``: the columns that may not be negative (the catalogue's and the fuel columns)."""
    v = _dec(text)
    if v is None:
        return None, _("“%(v)s”不是数") % {"v": text}
    if column.endswith("_growth_pct"):
        if v <= -100:
            return None, _("%(c)s 应为大于 −100 的百分数") % {"c": column}
        return v, None
    if known is None:
        known = frozenset(catalogue().statistics) | frozenset(_fuel_columns())
    if v < 0 and column in known and "_net_" not in f"_{column}":
        return None, _("%(c)s 不能为负数") % {"c": column}
    return v, None


def _letter(i: int) -> str:
    """0 → A (the column of a 0-based index, as the upload reader names it)."""
    return column_letter(i)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(data: bytes, filename: str) -> tuple[str, list[str], list[list[str]]]:
    """(sheet name, header, rows as text) of a CSV or .xlsx statistics file, read through the
    bounded reader (:mod:`dualcontrol.formats.upload_tables`, limits ``statistics``): blank rows
    and rows whose first cell starts with ``#`` (comments) are skipped."""
    sheet, header, body = read_numbered_table(data, filename)
    return sheet, header, [cells for _row, cells in body]


def read_numbered_table(
    data: bytes, filename: str
) -> tuple[str, list[str], list[tuple[int, list[str]]]]:
    """As :func:`read_table`, each data row with its row number in the file (blank and comment
    rows are skipped, so the n-th data row is not always the file's row n + 1)."""
    try:
        table = read_upload(
            data, filename, kind="statistics", csv_sheet=filename or "csv", first_sheet_only=True
        )
    except TableRefused as exc:
        raise StatisticsRejected(exc.errors) from exc
    sheet = table.sheets[0]
    rows: list[tuple[int, list[str]]] = []
    for number, raw in enumerate(sheet.rows, start=1):
        cells = [_cell(c) for c in raw]
        if table.format == "xlsx":
            while cells and not cells[-1]:
                cells.pop()
        if not any(cells) or cells[0].startswith("#"):
            continue
        rows.append((number, cells))
    if not rows:
        raise StatisticsRejected([CellError(sheet.title, 1, "", _("文件没有数据行"))])
    header = [h.strip() for h in rows[0][1]]
    return sheet.title, header, rows[1:]


def _fuel_columns() -> tuple[str, ...]:
    try:
        from dualcontrol.reference.regional_co2 import fuel_columns
    except ImportError:  # pragma: no cover - the module ships with the platform
        return ()
    return fuel_columns()


def _co2_of(values: dict[str, float], year: int) -> tuple[float, dict[str, Any]]:
    """CO2 (t) of a region-period from its energy by fuel, with the provenance."""
    from dualcontrol.reference.regional_co2 import co2_from_columns

    result = co2_from_columns(values, year=year)
    return result.co2_t, {"co2_t": result.provenance.as_dict()}


def import_statistics(
    *,
    data: bytes,
    user: Any,
    filename: str = "",
    is_synthetic: bool = False,
    system: bool = False,
) -> int:
    """Create or update regional statistics from a file (see the module docstring).
    ``system``: a batch job of the platform (the demo builder), not a user's upload."""
    if not system and not is_province(user):
        raise NotAllowed(_("只有省级用户可以导入地区统计数据"))
    sheet, header, body = read_numbered_table(data, filename)
    # the header's problems, all of them (a file whose header is wrong is not read further)
    header_errors: list[CellError] = []
    missing = [c for c in KEY_COLUMNS if c not in header]
    if missing:
        header_errors.append(
            CellError(sheet, 1, "", _("缺少列：%(cols)s") % {"cols": ", ".join(missing)})
        )
    if not [h for h in header if h and h not in KEY_COLUMNS + OPTIONAL_STAT_COLUMNS]:
        header_errors.append(
            CellError(
                sheet,
                1,
                "",
                _("缺少列：至少需要一个统计数据列（如 %(cols)s）")
                % {"cols": ", ".join((*REQUIRED_STAT_COLUMNS[2:], "co2_t"))},
            )
        )
    dup_cols = sorted({h for h in header if h and header.count(h) > 1})
    if dup_cols:
        header_errors.append(
            CellError(sheet, 1, "", _("列名重复：%(cols)s") % {"cols": ", ".join(dup_cols)})
        )
    if header_errors:
        raise StatisticsRejected(header_errors)
    fuel_cols = set(_fuel_columns())
    known_cols = frozenset(catalogue().statistics) | fuel_cols
    value_cols = [
        c for c in header if c and c not in KEY_COLUMNS + OPTIONAL_STAT_COLUMNS + FIELD_COLUMNS
    ]
    col_letter = {c: _letter(i) for i, c in enumerate(header)}
    from dualcontrol.access.scope import visible_divisions

    # an officer imports the statistics of its own province only (issue 22: several provinces)
    divisions = Division.objects.all() if system else visible_divisions(user)
    by_code = {d.code: d for d in divisions}
    by_name: dict[str, list[Division]] = {}
    for d in by_code.values():
        by_name.setdefault(d.name, []).append(d)
    industries = {i.code: i for i in Industry.objects.all()} if "industry" in header else {}
    errors: list[CellError] = []
    parsed: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], int] = {}

    def err(row: int, col: str, reason: str) -> None:
        errors.append(CellError(sheet, row, col_letter.get(col, ""), reason, field=col))

    if not body:
        raise StatisticsRejected([CellError(sheet, 2, "", _("文件没有数据行"))])
    for i, raw in body:  # i: the row number in the file
        if len(raw) > len(header):
            err(i, "", _("本行的列数多于表头"))  # the cells under the header are still checked
        cells = {h: (raw[j] if j < len(raw) else "") for j, h in enumerate(header)}
        if not any(cells.values()):
            continue
        region = cells["region"]
        div = by_code.get(region)
        if div is None:
            named = by_name.get(region, [])
            div = named[0] if len(named) == 1 else None
            if len(named) > 1:
                err(i, "region", _("地区名称“%(v)s”不唯一，请用区划代码") % {"v": region})
            elif div is None:
                err(i, "region", _("未知地区“%(v)s”（应为区划代码或名称）") % {"v": region})
        industry = None
        if cells.get("industry"):
            industry = industries.get(cells["industry"])
            if industry is None:
                err(
                    i,
                    "industry",
                    _("未知行业代码“%(v)s”（GB/T 4754）") % {"v": cells["industry"]},
                )
        year = cells["year"]
        if not (year.isdigit() and 1949 <= int(year) <= 2100):
            err(i, "year", _("年份“%(v)s”无效") % {"v": year})
        month = cells.get("month", "")
        quarter = cells.get("quarter", "")
        if month and not (month.isdigit() and 1 <= int(month) <= 12):
            err(i, "month", _("月份“%(v)s”应为 1–12 或留空") % {"v": month})
        if quarter and not (quarter.isdigit() and 1 <= int(quarter) <= 4):
            err(i, "quarter", _("季度“%(v)s”应为 1–4 或留空") % {"v": quarter})
        if month and quarter:
            err(i, "quarter", _("同一行不能同时填写月份和季度"))
        fields: dict[str, Decimal | None] = {}
        if "energy_tce" in header and cells["energy_tce"]:
            energy = _dec(cells["energy_tce"])
            if energy is None or energy < 0:
                err(
                    i,
                    "energy_tce",
                    _("能源消费量“%(v)s”应为不小于 0 的数") % {"v": cells["energy_tce"]},
                )
            fields["energy_tce"] = energy
        if "gdp_10k_yuan" in header and cells["gdp_10k_yuan"]:
            gdp = _dec(cells["gdp_10k_yuan"])
            if gdp is None or gdp <= 0:
                err(
                    i,
                    "gdp_10k_yuan",
                    _("地区生产总值“%(v)s”应为大于 0 的数") % {"v": cells["gdp_10k_yuan"]},
                )
            fields["gdp_10k_yuan"] = gdp
        if "gdp_real_growth_pct" in header:
            growth_text = cells["gdp_real_growth_pct"]
            growth = _dec(growth_text) if growth_text else None
            if growth_text and (growth is None or growth <= -100):
                err(
                    i,
                    "gdp_real_growth_pct",
                    _("GDP 实际增长“%(v)s”应为大于 −100 的百分数") % {"v": growth_text},
                )
            fields["gdp_real_growth_pct"] = growth
        values: dict[str, float] = {}
        for c in value_cols:
            if not cells.get(c):
                continue
            v, problem = check_value(c, cells[c], known=known_cols)
            if problem is not None or v is None:
                err(i, c, problem or "")
            else:
                values[c] = float(v)
        source = cells.get("source") or (f"import {filename}" if filename else "")
        if not source:
            err(i, "source", _("来源不能为空（填写 source 列）"))
        key = (region, cells.get("industry", ""), year, month, quarter)
        if key in seen:
            err(
                i,
                "region",
                _("与第 %(row)s 行重复（同一地区、年份、月份/季度）") % {"row": seen[key]},
            )
        seen[key] = i
        derived: dict[str, Any] = {}
        if "co2_t" not in values and fuel_cols & set(values) and year.isdigit():
            try:
                co2, derived = _co2_of(values, int(year))
            except ValueError as exc:
                first = sorted(fuel_cols & set(values))[0]
                err(i, first, _("无法计算二氧化碳排放：%(e)s") % {"e": exc})
            else:
                values["co2_t"] = co2
        parsed.append(
            dict(
                row=i,
                division=div,
                industry=industry,
                year=int(year) if year.isdigit() else 0,
                month=int(month) if month.isdigit() else None,
                quarter=int(quarter) if quarter.isdigit() else None,
                fields=fields,
                values=values,
                derived=derived,
                source=source[:255],
            )
        )
    existing = _existing(parsed)
    for r in parsed:
        if r["division"] is None or _key(r) in existing:
            continue
        for col, label in (("energy_tce", _("能源消费量")), ("gdp_10k_yuan", _("地区生产总值"))):
            if r["fields"].get(col) is None:
                err(
                    r["row"],
                    col,
                    _("%(label)s（%(col)s）不能为空：该地区该期间尚无统计数据")
                    % {"label": label, "col": col},
                )
    if errors:
        raise StatisticsRejected(errors)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        created = _upsert_statistics(parsed, existing, user=user, is_synthetic=is_synthetic)
        _merge_held_reports(parsed, existing, user=user)
        record(
            actor=user,
            action="statistics.import",
            object_type="targets.regionalstatistic",
            object_repr=filename or "statistics.csv",
            after={
                "rows": len(parsed),
                "created": created,
                "sha256": digest,
                "columns": header,
            },
        )
    return len(parsed)


def _key(r: dict[str, Any]) -> tuple[Any, ...]:
    industry = r["industry"].pk if r["industry"] is not None else None
    return (r["division"].pk, industry, r["year"], r["month"], r["quarter"])


def _existing(rows: list[dict[str, Any]]) -> dict[tuple[Any, ...], RegionalStatistic]:
    divisions = {r["division"].pk for r in rows if r["division"] is not None}
    years = {r["year"] for r in rows}
    return {
        (s.division_id, s.industry_id, s.year, s.month, s.quarter): s
        for s in RegionalStatistic.objects.filter(division_id__in=divisions, year__in=years)
    }


def _upsert_statistics(
    rows: Iterable[dict[str, Any]],
    existing: dict[tuple[Any, ...], RegionalStatistic],
    *,
    user: Any,
    is_synthetic: bool,
) -> int:
    actor = user if getattr(user, "is_authenticated", False) else None
    new, changed = [], []
    for r in rows:
        obj = existing.get(_key(r))
        if obj is None:
            obj = RegionalStatistic(
                division=r["division"],
                industry=r["industry"],
                year=r["year"],
                month=r["month"],
                quarter=r["quarter"],
                energy_tce=r["fields"]["energy_tce"],
                gdp_10k_yuan=r["fields"]["gdp_10k_yuan"],
                gdp_real_growth_pct=r["fields"].get("gdp_real_growth_pct"),
                factors=r["values"],
                derived=r["derived"],
                source=r["source"],
                is_synthetic=is_synthetic,
                imported_by=actor,
            )
            new.append(obj)
        else:
            for k, v in r["fields"].items():
                setattr(obj, k, v)
            obj.factors = {**(obj.factors or {}), **r["values"]}
            if "co2_t" in r["values"] and not r["derived"]:
                obj.derived = {k: v for k, v in (obj.derived or {}).items() if k != "co2_t"}
            obj.derived = {**(obj.derived or {}), **r["derived"]}
            obj.source = r["source"]
            obj.is_synthetic = is_synthetic
            obj.imported_by = actor
            obj.imported_at = timezone.now()
            changed.append(obj)
    RegionalStatistic.objects.bulk_create(new, batch_size=1000)
    RegionalStatistic.objects.bulk_update(
        changed,
        [
            "energy_tce",
            "gdp_10k_yuan",
            "gdp_real_growth_pct",
            "factors",
            "derived",
            "source",
            "is_synthetic",
            "imported_by",
            "imported_at",
        ],
        batch_size=1000,
    )
    analyze_after_commit(RegionalStatistic)
    return len(new)


def _merge_held_reports(
    rows: list[dict[str, Any]],
    existing: dict[tuple[Any, ...], RegionalStatistic],
    *,
    user: Any,
) -> int:
    """Self-reported statistics accepted before the annual row of their region and year existed
    wait on their filing (:mod:`dualcontrol.reporting.statistics_services`); a new annual row
    takes them now, in the import's transaction (a column the import gives keeps the import's)."""
    keys = {
        (r["division"].pk, r["year"])
        for r in rows
        if r["industry"] is None
        and r["month"] is None
        and r["quarter"] is None
        and _key(r) not in existing
    }
    if not keys:
        return 0
    from dualcontrol.reporting.statistics_services import merge_held_filings

    return merge_held_filings(keys, user=user)


def _joined_source(existing: str, source: str, replaces: str) -> str:
    """The row's source with ``source`` added (an earlier part starting ``replaces`` dropped)."""
    source = source[:255]
    parts = [
        p for p in (existing or "").split("；") if p and not (replaces and p.startswith(replaces))
    ]
    if source not in parts:
        parts.append(source)
    joined = "；".join(parts)
    if len(joined) > 255:
        head = "；".join(p for p in parts if p != source)
        joined = f"{head[: max(0, 255 - len(source) - 2)]}…；{source}"
    return joined[:255]


@dataclass(frozen=True)
class MergeResult:
    """What :func:`merge_reported_columns` did to the annual row."""

    statistic: RegionalStatistic
    written: dict[str, float]
    kept: dict[str, float]  # columns the row already had and kept (``only_missing``)


def merge_reported_columns(
    *,
    division: Division,
    year: int,
    columns: Mapping[str, Any],
    source: str,
    user: Any,
    replaces: str = "",
    is_synthetic: bool = False,
    only_missing: bool = False,
) -> MergeResult | None:
    """Set ``columns`` (statistics columns, not energy/GDP) on the annual row of ``division``
    (the whole region) for ``year``: the writer of the self-reported statistics.

    Every value is checked with the import's rule first (:class:`StatisticsRejected` lists every
    problem; nothing is written).  The row's ``source`` gets ``source`` added (an earlier part
    starting with ``replaces`` — the same filing's previous revision — is dropped).  Audited.

    Returns ``None`` and writes nothing when the region has no annual row for the year: such a row
    needs the statistics office's energy consumption and GDP, which a self-reported table does not
    carry, and the platform does not invent them.  The caller keeps the values; the import that
    creates the row merges them (:func:`_merge_held_reports`).  ``only_missing``: leave the columns
    the row already has as they are (the later import's figures win)."""
    errors: list[CellError] = []
    parsed: dict[str, float] = {}
    for column, raw in columns.items():
        if column in FIELD_COLUMNS:
            errors.append(CellError("", 0, "", _("%(c)s 不能自报") % {"c": column}, field=column))
            continue
        v, problem = check_value(column, str(raw))
        if problem is not None or v is None:
            errors.append(CellError("", 0, "", problem or "", field=column))
        else:
            parsed[column] = float(v)
    if errors:
        raise StatisticsRejected(errors)
    with transaction.atomic():
        stat = (
            RegionalStatistic.objects.select_for_update()
            .filter(
                division=division,
                year=year,
                month__isnull=True,
                quarter__isnull=True,
                industry__isnull=True,
            )
            .first()
        )
        if stat is None:
            return None
        factors = dict(stat.factors or {})
        kept = {c: float(factors[c]) for c in parsed if only_missing and factors.get(c) is not None}
        written = {c: v for c, v in parsed.items() if c not in kept}
        before = {"columns": {c: factors.get(c) for c in written}, "source": stat.source}
        factors.update(written)
        stat.factors = factors
        stat.derived = {k: v for k, v in (stat.derived or {}).items() if k not in written}
        if written:
            stat.source = _joined_source(stat.source, source, replaces)
        stat.is_synthetic = stat.is_synthetic or is_synthetic
        stat.imported_by = user if getattr(user, "is_authenticated", False) else stat.imported_by
        stat.save()
        record(
            actor=user,
            action="statistics.merge_reported",
            obj=stat,
            before=before,
            after={"columns": written, "kept": kept, "source": stat.source},
            note=source,
        )
    return MergeResult(stat, written, kept)


def load_series(
    division_ids: Iterable[int],
    years: tuple[int, int] | None = None,
    *,
    industry_id: int | None = None,
) -> dict[int, StatSeries]:
    """Each division's statistics (of the whole region, or of one sector with ``industry_id``)
    as a :class:`StatSeries` (optionally only the years ``years[0]…years[1]``)."""
    out: dict[int, StatSeries] = {}
    qs = RegionalStatistic.objects.filter(
        division_id__in=list(division_ids), industry_id=industry_id
    )
    if years is not None:
        qs = qs.filter(year__gte=years[0], year__lte=years[1])
    for div, year, month, quarter, energy, gdp, growth, factors in qs.values_list(
        "division_id",
        "year",
        "month",
        "quarter",
        "energy_tce",
        "gdp_10k_yuan",
        "gdp_real_growth_pct",
        "factors",
    ):
        series = out.setdefault(div, StatSeries())
        fig = StatFigure(
            energy_tce=float(energy),
            gdp_10k_yuan=float(gdp),
            growth_frac=None if growth is None else float(growth) / 100,
            values={k: float(v) for k, v in (factors or {}).items() if v is not None},
        )
        if month:
            series.ytd[(year, month)] = fig
        elif quarter:
            series.ytd.setdefault((year, 3 * quarter), fig)
        else:
            series.annual[year] = fig
    return out
