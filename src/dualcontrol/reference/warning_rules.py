"""Barometer rule sets (``warning_*.yaml``) → :class:`dualcontrol.core.warning.RuleSet`.

Every ``warning_*.yaml`` in ``reference/data/`` is a rule set, found by its ``name``; adding a
file (or, later, a row edited in the admin that holds the same mapping) adds a rule set without
code change.  :func:`rule_set_from_mapping` validates the structure and then the semantics
(bands partition the number line) and names the file and the offending key on error.

YAML layout (see ``warning_ndrc_2021.yaml`` for a commented example)::

    name, title_zh, title_en?, source, valid_from, valid_to, required_means_zh
    stages?: [{id, name_zh, issued_in_month?}]
    levels: [{id, number, name_zh, name_en, colour, severity, warning}]
    rules:  [{indicators: [...], stages?: [...], measure, bands: [
               {level, lower?: {value, inclusive}, upper?: {value, inclusive},
                note_zh?, consequences?: [{code, text_zh, text_en, params?}]}]}]
    consequence_sets?: anything (a place for YAML anchors; ignored)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from fractions import Fraction
from importlib import resources
from typing import Any

from dualcontrol.core.warning import (
    Band,
    Bound,
    Consequence,
    Level,
    Measure,
    Rule,
    RuleSet,
    Stage,
    WarningRuleError,
    validate_rule_set,
)
from dualcontrol.reference import DATA_PACKAGE, ReferenceDataError, load_yaml, parse_date

DEFAULT_RULE_SET = "ndrc-2021"
FILE_PREFIX = "warning_"

_TOP_KEYS = {
    "name",
    "title_zh",
    "title_en",
    "source",
    "valid_from",
    "valid_to",
    "required_means_zh",
    "stages",
    "levels",
    "rules",
    "consequence_sets",
}


def rule_set_files() -> list[str]:
    """File names of the shipped rule sets."""
    root = resources.files(DATA_PACKAGE)
    return sorted(
        p.name
        for p in root.iterdir()
        if p.name.startswith(FILE_PREFIX) and p.name.endswith((".yaml", ".yml"))
    )


def available_rule_sets() -> dict[str, str]:
    """Rule-set name → file name."""
    out: dict[str, str] = {}
    for fname in rule_set_files():
        _, data = load_yaml(fname)
        name = data.get("name") if isinstance(data, dict) else None
        if not isinstance(name, str) or not name:
            raise ReferenceDataError(f"{fname}: a rule set needs a name")
        if name in out:
            raise ReferenceDataError(f"{fname}: rule set {name!r} also defined in {out[name]}")
        out[name] = fname
    return out


def load_rule_set(name: str = DEFAULT_RULE_SET) -> RuleSet:
    """The shipped rule set called ``name`` (e.g. ``ndrc-2021``, ``local-l1``, ``local-l2``)."""
    files = available_rule_sets()
    if name not in files:
        raise ReferenceDataError(
            f"unknown warning rule set {name!r}; available: {', '.join(sorted(files))}"
        )
    version, data = load_yaml(files[name])
    return rule_set_from_mapping(data, version=version, where=files[name])


def _req(d: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in d or d[key] is None or d[key] == "":
        raise ReferenceDataError(f"{where}: missing {key}")
    return d[key]


def _str(d: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    if default is not None and d.get(key) in (None, ""):
        return default
    value = _req(d, key, where)
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ReferenceDataError(f"{where}: {key} must be text")
    return str(value)


def _fraction(value: Any, where: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ReferenceDataError(f"{where}: {value!r} is not a number")
    try:
        # str() first: YAML 0.1 is the float 0.1; its shortest repr "0.1" is the decimal written.
        return Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError) as exc:
        raise ReferenceDataError(f"{where}: {value!r} is not a number") from exc


def _date(d: Mapping[str, Any], key: str, where: str) -> dt.date | None:
    value = d.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    return parse_date(str(value), where=f"{where} {key}")


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ReferenceDataError(f"{where}: expected a mapping")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ReferenceDataError(f"{where}: expected a non-empty list")
    return value


def _bound(value: Any, where: str) -> Bound | None:
    if value is None:
        return None
    d = _mapping(value, where)
    unknown = set(d) - {"value", "inclusive"}
    if unknown:
        raise ReferenceDataError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    inclusive = _req(d, "inclusive", where)
    if not isinstance(inclusive, bool):
        raise ReferenceDataError(f"{where}: inclusive must be true or false")
    return Bound(value=_fraction(_req(d, "value", where), f"{where} value"), inclusive=inclusive)


def _consequence(value: Any, where: str) -> Consequence:
    d = _mapping(value, where)
    params = d.get("params") or {}
    params = _mapping(params, f"{where} params")
    return Consequence(
        code=_str(d, "code", where),
        text_zh=_str(d, "text_zh", where),
        text_en=_str(d, "text_en", where, default=""),
        params=tuple((str(k), str(v)) for k, v in params.items()),
    )


def _level(value: Any, where: str) -> Level:
    d = _mapping(value, where)
    number = d.get("number")
    severity = _req(d, "severity", where)
    warning = _req(d, "warning", where)
    if not isinstance(severity, int) or isinstance(severity, bool) or severity < 0:
        raise ReferenceDataError(f"{where}: severity must be an integer ≥ 0")
    if not isinstance(warning, bool):
        raise ReferenceDataError(f"{where}: warning must be true or false")
    return Level(
        id=_str(d, "id", where),
        number=None if number in (None, "") else str(number),
        name_zh=_str(d, "name_zh", where),
        name_en=_str(d, "name_en", where, default=""),
        colour=_str(d, "colour", where),
        severity=severity,
        warning=warning,
    )


def _band(value: Any, where: str) -> Band:
    d = _mapping(value, where)
    unknown = set(d) - {"level", "lower", "upper", "consequences", "note_zh"}
    if unknown:
        raise ReferenceDataError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    consequences = d.get("consequences") or []
    if not isinstance(consequences, list):
        raise ReferenceDataError(f"{where}: consequences must be a list")
    return Band(
        level_id=_str(d, "level", where),
        lower=_bound(d.get("lower"), f"{where} lower"),
        upper=_bound(d.get("upper"), f"{where} upper"),
        consequences=tuple(
            _consequence(c, f"{where} consequence {i}") for i, c in enumerate(consequences, 1)
        ),
        note_zh=str(d.get("note_zh") or ""),
    )


def _names(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in _list(value, where))


def _rule(value: Any, where: str) -> Rule:
    d = _mapping(value, where)
    unknown = set(d) - {"indicators", "stages", "measure", "bands"}
    if unknown:
        raise ReferenceDataError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    measure_name = _str(d, "measure", where)
    try:
        measure = Measure(measure_name)
    except ValueError:
        raise ReferenceDataError(
            f"{where}: unknown measure {measure_name!r}; expected "
            + ", ".join(m.value for m in Measure)
        ) from None
    stages = d.get("stages")
    return Rule(
        indicators=_names(_req(d, "indicators", where), f"{where} indicators"),
        stages=None if stages is None else _names(stages, f"{where} stages"),
        measure=measure,
        bands=tuple(
            _band(b, f"{where} band {i}")
            for i, b in enumerate(_list(_req(d, "bands", where), f"{where} bands"), 1)
        ),
    )


def _stage(value: Any, where: str) -> Stage:
    d = _mapping(value, where)
    month = d.get("issued_in_month")
    if month is not None and (not isinstance(month, int) or not 1 <= month <= 12):
        raise ReferenceDataError(f"{where}: issued_in_month must be 1…12")
    return Stage(id=_str(d, "id", where), name_zh=_str(d, "name_zh", where), issued_in_month=month)


def rule_set_from_mapping(data: Any, *, version: str, where: str = "rule set") -> RuleSet:
    """Validate a rule-set mapping (parsed YAML, or an admin-edited row) and build the RuleSet."""
    d = _mapping(data, where)
    unknown = set(d) - _TOP_KEYS
    if unknown:
        raise ReferenceDataError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    stages = d.get("stages") or []
    rs = RuleSet(
        name=_str(d, "name", where),
        version=version,
        title_zh=_str(d, "title_zh", where),
        source=_str(d, "source", where),
        valid_from=_date(d, "valid_from", where),
        valid_to=_date(d, "valid_to", where),
        required_means_zh=_str(d, "required_means_zh", where),
        levels=tuple(
            _level(lv, f"{where} level {i}")
            for i, lv in enumerate(_list(_req(d, "levels", where), f"{where} levels"), 1)
        ),
        rules=tuple(
            _rule(r, f"{where} rule {i}")
            for i, r in enumerate(_list(_req(d, "rules", where), f"{where} rules"), 1)
        ),
        stages=tuple(_stage(s, f"{where} stage {i}") for i, s in enumerate(stages, 1)),
    )
    try:
        validate_rule_set(rs)
    except WarningRuleError as exc:
        raise ReferenceDataError(f"{where}: {exc}") from exc
    return rs
