"""Limit standards, 标杆/基准 levels, electricity-surcharge rules and key-unit thresholds.

Files: ``efficiency_limits.csv`` (limit lines + their correction rules), ``efficiency_benchmarks.csv``,
``electricity_surcharges.yaml``, ``key_unit_thresholds.yaml``.  Every problem names the file and
row (:class:`~dualcontrol.reference.ReferenceDataError`).  Computations: :mod:`dualcontrol.core.efficiency`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from dualcontrol.core.efficiency import (
    BenchmarkLevel,
    CorrectionForm,
    DesignationError,
    DesignationThresholds,
    DesignationTier,
    LimitCorrection,
    LimitLine,
    LimitStandard,
    SurchargeBasis,
    SurchargeRule,
    SurchargeTier,
    YearThreshold,
    find_benchmark,
    find_limit_line,
)
from dualcontrol.reference import ReferenceDataError, load_csv, load_yaml, parse_date

LIMITS_FILE = "efficiency_limits.csv"
BENCHMARKS_FILE = "efficiency_benchmarks.csv"
SURCHARGES_FILE = "electricity_surcharges.yaml"
THRESHOLDS_FILE = "key_unit_thresholds.yaml"
YES = {"yes": True, "no": False, "": True}


def _dec(value: Any, where: str, *, optional: bool = True) -> Decimal | None:
    text = "" if value is None else str(value).strip()
    if not text:
        if optional:
            return None
        raise ReferenceDataError(f"{where}: a number is required")
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ReferenceDataError(f"{where}: {text!r} is not a number") from exc
    if not number.is_finite():
        raise ReferenceDataError(f"{where}: {text!r} is not a finite number")
    return number


def _req(value: Any, where: str) -> Decimal:
    number = _dec(value, where, optional=False)
    assert number is not None
    return number


def _flag(value: str, where: str, default: bool) -> bool:
    text = value.strip().lower()
    if not text:
        return default
    if text not in YES:
        raise ReferenceDataError(f"{where}: {value!r} is not yes/no")
    return YES[text]


def _line_key(row: dict[str, str]) -> tuple[str, str, str]:
    return (row["standard"], row["product"], row["indicator"])


def limit_lines(on: dt.date | None = None) -> list[LimitLine]:
    """Every limit line (``on`` given: only those whose standard is in force that day)."""
    lines = _all_limit_lines()
    return [ln for ln in lines if on is None or ln.standard.valid_on(on)]


@cache
def _all_limit_lines() -> tuple[LimitLine, ...]:
    table = load_csv(LIMITS_FILE)
    standards: dict[str, LimitStandard] = {}
    line_rows: dict[tuple[str, str, str], tuple[int, dict[str, str]]] = {}
    corrections: dict[tuple[str, str, str], list[LimitCorrection]] = {}
    for i, r in enumerate(table.rows, start=2):
        where = f"{LIMITS_FILE} row {i}"
        for col in ("standard", "standard_title", "product", "product_name_zh", "indicator"):
            if not r.get(col):
                raise ReferenceDataError(f"{where}: column {col} is empty")
        standard = LimitStandard(
            code=r["standard"],
            title=r["standard_title"],
            valid_from=parse_date(r["valid_from"], where=f"{where} column valid_from"),
            valid_to=parse_date(r["valid_to"], where=f"{where} column valid_to"),
            source=r["source"],
            version=table.version,
        )
        known = standards.setdefault(standard.code, standard)
        if (known.title, known.valid_from, known.valid_to) != (
            standard.title,
            standard.valid_from,
            standard.valid_to,
        ):
            raise ReferenceDataError(
                f"{where}: {standard.code} has another title or validity than on an earlier row"
            )
        if r["kind"] == "line":
            if _line_key(r) in line_rows:
                raise ReferenceDataError(f"{where}: line {' / '.join(_line_key(r))} given twice")
            line_rows[_line_key(r)] = (i, r)
        elif r["kind"] == "correction":
            corrections.setdefault(_line_key(r), []).append(_correction(r, where))
        else:
            raise ReferenceDataError(f"{where}: kind must be line or correction, not {r['kind']!r}")
    orphans = sorted(set(corrections) - set(line_rows))
    if orphans:
        raise ReferenceDataError(
            f"{LIMITS_FILE}: correction rows without a line: {'; '.join('/'.join(k) for k in orphans)}"
        )
    out = []
    for key, (i, r) in line_rows.items():
        where = f"{LIMITS_FILE} row {i}"
        lower = _flag(r["lower_is_better"], f"{where} column lower_is_better", True)
        grades = [_dec(r[f"grade{g}"], f"{where} column grade{g}") for g in (1, 2, 3)]
        if grades[2] is None:
            raise ReferenceDataError(f"{where}: grade3 (限定值) is required")
        given = [g for g in grades if g is not None]
        ordered = sorted(given) if lower else sorted(given, reverse=True)
        if given != ordered:
            raise ReferenceDataError(f"{where}: grades must run from 1级 (best) to 3级 (limit)")
        if not r.get("unit") or not r.get("indicator_name_zh"):
            raise ReferenceDataError(f"{where}: unit and indicator_name_zh are required")
        out.append(
            LimitLine(
                standard=standards[r["standard"]],
                product=r["product"],
                product_name_zh=r["product_name_zh"],
                indicator=r["indicator"],
                indicator_name_zh=r["indicator_name_zh"],
                unit=r["unit"],
                grade1=grades[0],
                grade2=grades[1],
                grade3=grades[2],
                lower_is_better=lower,
                corrections=tuple(corrections.get(key, ())),
                caveat=r.get("caveat", ""),
                aliases=tuple(a.strip() for a in r.get("aliases", "").split(";") if a.strip()),
            )
        )
    return tuple(out)


def _correction(r: dict[str, str], where: str) -> LimitCorrection:
    for col in ("correction", "correction_name_zh", "correction_form", "input_unit", "base"):
        if not r.get(col):
            raise ReferenceDataError(f"{where}: column {col} is empty on a correction row")
    try:
        form = CorrectionForm(r["correction_form"])
    except ValueError as exc:
        raise ReferenceDataError(
            f"{where}: correction_form {r['correction_form']!r} is not linear/pressure_factor"
        ) from exc
    coefficients = tuple(_dec(r[f"grade{g}"], f"{where} column grade{g}") for g in (1, 2, 3))
    if all(c is None for c in coefficients):
        raise ReferenceDataError(f"{where}: a correction needs a coefficient for some grade")
    sign = r.get("sign") or "1"
    if sign not in {"1", "-1"}:
        raise ReferenceDataError(f"{where}: sign must be 1 or -1")
    base = _req(r["base"], f"{where} column base")
    if form is CorrectionForm.PRESSURE_FACTOR and (base == 0 or not r.get("factor_b")):
        raise ReferenceDataError(f"{where}: pressure_factor needs a non-zero base and factor_b")
    if bool(r.get("condition_input")) != bool(r.get("condition_above")):
        raise ReferenceDataError(f"{where}: condition_input and condition_above go together")
    return LimitCorrection(
        name=r["correction"],
        name_zh=r["correction_name_zh"],
        form=form,
        input_unit=r["input_unit"],
        coefficients=(coefficients[0], coefficients[1], coefficients[2]),
        base=base,
        sign=int(sign),
        min_deviation=_dec(r.get("min_deviation"), f"{where} column min_deviation"),
        max_deviation=_dec(r.get("max_deviation"), f"{where} column max_deviation"),
        input_min=_dec(r.get("input_min"), f"{where} column input_min"),
        input_max=_dec(r.get("input_max"), f"{where} column input_max"),
        required=_flag(r.get("required", ""), f"{where} column required", False),
        factor_b=_dec(r.get("factor_b"), f"{where} column factor_b"),
        condition_input=r.get("condition_input") or None,
        condition_above=_dec(r.get("condition_above"), f"{where} column condition_above"),
        source=r["source"],
        caveat=r.get("caveat", ""),
    )


def limit_line(product: str, indicator: str, on: dt.date | None = None) -> LimitLine:
    """The line of ``product``/``indicator`` (key or Chinese name) in force on ``on`` (today)."""
    return find_limit_line(_all_limit_lines(), product, indicator, on or dt.date.today())


def benchmark_levels(on: dt.date | None = None) -> list[BenchmarkLevel]:
    """Every 标杆/基准 row (``on`` given: those valid that day); values NOT FOUND stay None."""
    table = load_csv(BENCHMARKS_FILE)
    keys = {(ln.product, ln.indicator): ln for ln in _all_limit_lines()}
    out = []
    for i, r in enumerate(table.rows, start=2):
        where = f"{BENCHMARKS_FILE} row {i}"
        line = keys.get((r.get("product", ""), r.get("indicator", "")))
        if line is None:
            raise ReferenceDataError(
                f"{where}: no limit line {r.get('product')}/{r.get('indicator')}"
            )
        if r.get("unit") != line.unit:
            raise ReferenceDataError(f"{where}: unit {r.get('unit')!r} ≠ the line's {line.unit!r}")
        lower = _flag(r.get("lower_is_better", ""), f"{where} column lower_is_better", True)
        benchmark = _dec(r.get("benchmark"), f"{where} column benchmark")
        baseline = _dec(r.get("baseline"), f"{where} column baseline")
        if (
            benchmark is not None
            and baseline is not None
            and ((benchmark > baseline) if lower else (benchmark < baseline))
        ):
            raise ReferenceDataError(f"{where}: 标杆 must be at least as good as 基准")
        level = BenchmarkLevel(
            product=r["product"],
            indicator=r["indicator"],
            unit=r["unit"],
            benchmark=benchmark,
            baseline=baseline,
            source=r["source"],
            valid_from=parse_date(r["valid_from"], where=f"{where} column valid_from"),
            valid_to=parse_date(r["valid_to"], where=f"{where} column valid_to"),
            version=table.version,
            lower_is_better=lower,
            caveat=r.get("caveat", ""),
        )
        if on is None or (
            (level.valid_from is None or level.valid_from <= on)
            and (level.valid_to is None or on <= level.valid_to)
        ):
            out.append(level)
    return out


def benchmark_level(
    product: str, indicator: str, on: dt.date | None = None
) -> BenchmarkLevel | None:
    """The 标杆/基准 level of a line (keys) on ``on`` (today), None when not known."""
    day = on or dt.date.today()
    return find_benchmark(benchmark_levels(day), product, indicator, day)


def surcharge_rules(region: str | None = None) -> list[SurchargeRule]:
    """Every surcharge rule (``region`` given: the national rules plus that region's)."""
    version, data = load_yaml(SURCHARGES_FILE)
    rules = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rules, list) or not rules:
        raise ReferenceDataError(f"{SURCHARGES_FILE}: a non-empty list 'rules' is required")
    products = {ln.product: ln for ln in _all_limit_lines()}
    out: list[SurchargeRule] = []
    for n, raw in enumerate(rules, start=1):
        out.append(_rule(raw, f"{SURCHARGES_FILE} rule {n}", version, products))
    ids = [r.rule_id for r in out]
    if len(ids) != len(set(ids)):
        raise ReferenceDataError(f"{SURCHARGES_FILE}: a rule id appears twice")
    return [r for r in out if region is None or r.region in ("national", region)]


def _rule(raw: Any, where: str, version: str, products: dict[str, LimitLine]) -> SurchargeRule:
    if not isinstance(raw, dict):
        raise ReferenceDataError(f"{where}: not a mapping")
    for key in ("id", "title", "source", "region", "valid_from_year", "basis"):
        if raw.get(key) in (None, ""):
            raise ReferenceDataError(f"{where}: {key} is required")
    where = f"{where} ({raw['id']})"
    try:
        basis = SurchargeBasis(raw["basis"])
        from_year = int(raw["valid_from_year"])
        to_year = None if raw.get("valid_to_year") in (None, "") else int(raw["valid_to_year"])
    except (ValueError, TypeError) as exc:
        raise ReferenceDataError(f"{where}: {exc}") from exc
    product = raw.get("product") or None
    indicator = raw.get("indicator") or None
    if (product is None) != (basis is SurchargeBasis.EXCESS_OVER_LIMIT):
        raise ReferenceDataError(
            f"{where}: excess_over_limit rules cover every product; other rules name one"
        )
    if product is not None and product not in products:
        raise ReferenceDataError(f"{where}: product {product!r} has no limit line")
    tiers = []
    for k, t in enumerate(raw.get("tiers") or [], start=1):
        at = f"{where} tier {k}"
        if not isinstance(t, dict) or not t.get("tier"):
            raise ReferenceDataError(f"{at}: a mapping with a tier name is required")
        amount = _req(t.get("surcharge_yuan_per_kwh"), f"{at} surcharge_yuan_per_kwh")
        if amount < 0:
            raise ReferenceDataError(f"{at}: a surcharge cannot be negative")
        tiers.append(
            SurchargeTier(
                tier=str(t["tier"]),
                upper=_dec(t.get("upper"), f"{at} upper"),
                upper_inclusive=bool(t.get("inclusive", True)),
                surcharge_yuan_per_kwh=amount,
                quote=str(t.get("quote") or ""),
            )
        )
    uppers = [t.upper for t in tiers]
    if tiers and (uppers[-1] is not None or None in uppers[:-1]):
        raise ReferenceDataError(f"{where}: only the last tier is open-ended (and it must be)")
    bounded = [u for u in uppers if u is not None]
    if bounded != sorted(bounded) or len(bounded) != len(set(bounded)):
        raise ReferenceDataError(f"{where}: tier bounds must increase")
    thresholds = []
    for k, t in enumerate(raw.get("thresholds") or [], start=1):
        at = f"{where} threshold {k}"
        try:
            thresholds.append(
                YearThreshold(
                    from_year=int(t["from_year"]),
                    to_year=None if t.get("to_year") in (None, "") else int(t["to_year"]),
                    threshold=_req(t.get("threshold"), f"{at} threshold"),
                    note=str(t.get("note") or ""),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ReferenceDataError(f"{at}: {exc}") from exc
    if basis is SurchargeBasis.STEPS_OVER_THRESHOLD:
        if not thresholds or raw.get("step_size") is None:
            raise ReferenceDataError(f"{where}: a stepped rule needs thresholds and step_size")
        for year in range(from_year, (to_year or max(t.from_year for t in thresholds)) + 1):
            if sum(t.covers(year) for t in thresholds) != 1:
                raise ReferenceDataError(f"{where}: {year} needs exactly one threshold")
    elif not tiers:
        raise ReferenceDataError(f"{where}: tiers are required")
    notes = raw.get("notes") or []
    return SurchargeRule(
        rule_id=str(raw["id"]),
        title=str(raw["title"]),
        source=str(raw["source"]),
        region=str(raw["region"]),
        valid_from_year=from_year,
        valid_to_year=to_year,
        product=product,
        indicator=indicator,
        unit=str(raw.get("unit") or ""),
        basis=basis,
        tiers=tuple(tiers),
        thresholds=tuple(thresholds),
        step_size=_dec(raw.get("step_size"), f"{where} step_size"),
        step_surcharge_yuan_per_kwh=_dec(
            raw.get("step_surcharge_yuan_per_kwh"), f"{where} step_surcharge_yuan_per_kwh"
        ),
        notes=tuple(str(x) for x in notes),
        version=version,
    )


def designation_thresholds(
    region: str | None = None, on: dt.date | None = None
) -> list[DesignationThresholds]:
    """Key-unit thresholds per region (filtered by ``region`` and the day ``on`` when given)."""
    version, data = load_yaml(THRESHOLDS_FILE)
    sets = data.get("rule_sets") if isinstance(data, dict) else None
    if not isinstance(sets, list) or not sets:
        raise ReferenceDataError(f"{THRESHOLDS_FILE}: a non-empty list 'rule_sets' is required")
    out = []
    for n, raw in enumerate(sets, start=1):
        where = f"{THRESHOLDS_FILE} rule set {n}"
        if not isinstance(raw, dict):
            raise ReferenceDataError(f"{where}: not a mapping")
        for key in ("id", "region", "title", "source", "tiers"):
            if not raw.get(key):
                raise ReferenceDataError(f"{where}: {key} is required")
        tiers = []
        for k, t in enumerate(raw["tiers"], start=1):
            at = f"{where} tier {k}"
            if not isinstance(t, dict) or not t.get("key") or not t.get("name_zh"):
                raise ReferenceDataError(f"{at}: key and name_zh are required")
            tiers.append(
                DesignationTier(
                    key=str(t["key"]),
                    name_zh=str(t["name_zh"]),
                    min_tce=_req(t.get("min_tce"), f"{at} min_tce"),
                    max_tce=_dec(t.get("max_tce"), f"{at} max_tce"),
                    automatic=bool(t.get("automatic")),
                    quote=str(t.get("quote") or ""),
                )
            )
        try:
            rule_set = DesignationThresholds(
                rule_id=str(raw["id"]),
                region=str(raw["region"]),
                title=str(raw["title"]),
                source=str(raw["source"]),
                valid_from=_date(raw.get("valid_from"), f"{where} valid_from"),
                valid_to=_date(raw.get("valid_to"), f"{where} valid_to"),
                tiers=tuple(tiers),
                version=version,
                notes=tuple(str(x) for x in raw.get("notes") or []),
            )
        except DesignationError as exc:
            raise ReferenceDataError(f"{where}: {exc}") from exc
        if region is not None and rule_set.region != region:
            continue
        if on is not None and not (
            (rule_set.valid_from is None or rule_set.valid_from <= on)
            and (rule_set.valid_to is None or on <= rule_set.valid_to)
        ):
            continue
        out.append(rule_set)
    return out


def _date(value: Any, where: str) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    return parse_date("" if value is None else str(value), where=where)
