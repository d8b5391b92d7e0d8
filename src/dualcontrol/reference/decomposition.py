"""Decomposition presets (``decomposition_*.yaml``) → core schemes.

Each ``decomposition_*.yaml`` has a ``kind`` (``tiers``, ``weights`` or ``efficiency``) and a
``name``; the officer may also pass a file of the same layout (``--tiers FILE.yaml`` …), which is
read with :func:`read_yaml_file` and versioned by its hash like the shipped files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

from dualcontrol.core.decomposition import (
    DecompositionError,
    EfficiencyScheme,
    Factor,
    FactorDirection,
    Tier,
    TierScheme,
    WeightScheme,
)
from dualcontrol.reference import (
    DATA_PACKAGE,
    ReferenceDataError,
    load_yaml,
    parse_date,
    version_of,
)

FILE_PREFIX = "decomposition_"
KINDS = ("tiers", "weights", "efficiency")
DEFAULT_PRESETS = {
    "tiers": "national-12th-fyp",
    "weights": "default-factors",
    "efficiency": "default-efficiency",
}
_COMMON = {"kind", "name", "title_zh", "source", "valid_from", "valid_to"}


def preset_files() -> list[str]:
    root = resources.files(DATA_PACKAGE)
    return sorted(
        p.name
        for p in root.iterdir()
        if p.name.startswith(FILE_PREFIX) and p.name.endswith((".yaml", ".yml"))
    )


def available_presets(kind: str) -> dict[str, str]:
    """Preset name → file name, for one kind."""
    out: dict[str, str] = {}
    for fname in preset_files():
        _, data = load_yaml(fname)
        if not isinstance(data, dict) or data.get("kind") not in KINDS:
            raise ReferenceDataError(f"{fname}: kind must be one of {', '.join(KINDS)}")
        if data["kind"] != kind:
            continue
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise ReferenceDataError(f"{fname}: a preset needs a name")
        if name in out:
            raise ReferenceDataError(f"{fname}: preset {name!r} also defined in {out[name]}")
        out[name] = fname
    return out


def load_preset(kind: str, name: str | None = None) -> tuple[str, Any, str]:
    """(version, data, file name) of the shipped preset ``name`` (default for the kind)."""
    name = name or DEFAULT_PRESETS[kind]
    files = available_presets(kind)
    if name not in files:
        raise ReferenceDataError(
            f"unknown {kind} preset {name!r}; available: {', '.join(sorted(files))}"
        )
    version, data = load_yaml(files[name])
    return version, data, files[name]


def read_yaml_file(path: Path) -> tuple[str, Any]:
    """An officer's YAML file: (version = file name + hash, parsed data)."""
    import yaml

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ReferenceDataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return version_of(path.name, raw), yaml.safe_load(raw.decode("utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ReferenceDataError(f"{path}: invalid YAML: {exc}") from exc


def resolve(kind: str, spec: str | None) -> tuple[str, Any, str]:
    """``spec`` is a file path or a preset name (None = the default preset)."""
    if spec and (spec.endswith((".yaml", ".yml")) or Path(spec).exists()):
        version, data = read_yaml_file(Path(spec))
        return version, data, spec
    return load_preset(kind, spec)


# ---------------------------------------------------------------------------------------------
# validation helpers


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ReferenceDataError(f"{where}: expected a mapping")
    return value


def _req(d: Mapping[str, Any], key: str, where: str) -> Any:
    if d.get(key) in (None, ""):
        raise ReferenceDataError(f"{where}: missing {key}")
    return d[key]


def _fraction(value: Any, where: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ReferenceDataError(f"{where}: {value!r} is not a number")
    try:
        return Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError) as exc:
        raise ReferenceDataError(f"{where}: {value!r} is not a number") from exc


def _date(d: Mapping[str, Any], key: str, where: str) -> dt.date | None:
    value = d.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    return parse_date(str(value), where=f"{where} {key}")


def _header(d: Mapping[str, Any], kind: str, extra: set[str], where: str) -> tuple[str, str]:
    unknown = set(d) - _COMMON - extra
    if unknown:
        raise ReferenceDataError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    if d.get("kind", kind) != kind:
        raise ReferenceDataError(f"{where}: kind is {d.get('kind')!r}, expected {kind!r}")
    _date(d, "valid_from", where)
    _date(d, "valid_to", where)
    return str(_req(d, "name", where)), str(_req(d, "source", where))


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ReferenceDataError(f"{where}: expected a non-empty list")
    return value


# ---------------------------------------------------------------------------------------------
# builders


def tier_scheme_from_mapping(data: Any, *, version: str, where: str = "tiers") -> TierScheme:
    """``tiers: [{id, name_zh, reduction_pct, members?: [...]}]`` (percent as published)."""
    d = _mapping(data, where)
    name, source = _header(d, "tiers", {"tiers", "province_target_pct"}, where)
    tiers = []
    seen_members: dict[str, str] = {}
    for i, t in enumerate(_list(_req(d, "tiers", where), f"{where} tiers"), 1):
        tw = f"{where} tier {i}"
        td = _mapping(t, tw)
        unknown = set(td) - {"id", "name_zh", "reduction_pct", "members"}
        if unknown:
            raise ReferenceDataError(f"{tw}: unknown key(s) {', '.join(sorted(unknown))}")
        pct = _fraction(_req(td, "reduction_pct", tw), f"{tw} reduction_pct")
        if not 0 <= pct < 100:
            raise ReferenceDataError(f"{tw}: reduction_pct must be in [0, 100)")
        members = tuple(str(m) for m in (td.get("members") or []))
        tier_id = str(_req(td, "id", tw))
        for m in members:
            if m in seen_members:
                raise ReferenceDataError(f"{tw}: {m} is also in tier {seen_members[m]}")
            seen_members[m] = tier_id
        tiers.append(
            Tier(
                id=tier_id,
                name_zh=str(td.get("name_zh") or tier_id),
                reduction_frac=pct / 100,
                members=members,
            )
        )
    ids = [t.id for t in tiers]
    if len(set(ids)) != len(ids):
        raise ReferenceDataError(f"{where}: duplicate tier ids")
    return TierScheme(name=name, version=version, source=source, tiers=tuple(tiers))


def weight_scheme_from_mapping(data: Any, *, version: str, where: str = "weights") -> WeightScheme:
    """``spread``, ``factors: [{column, name_zh, direction, weight}]``."""
    d = _mapping(data, where)
    name, source = _header(d, "weights", {"factors", "spread"}, where)
    factors = []
    for i, f in enumerate(_list(_req(d, "factors", where), f"{where} factors"), 1):
        fw = f"{where} factor {i}"
        fd = _mapping(f, fw)
        unknown = set(fd) - {"column", "name_zh", "direction", "weight"}
        if unknown:
            raise ReferenceDataError(f"{fw}: unknown key(s) {', '.join(sorted(unknown))}")
        direction = str(_req(fd, "direction", fw))
        try:
            dir_ = FactorDirection(direction)
        except ValueError:
            raise ReferenceDataError(
                f"{fw}: direction {direction!r} must be higher_more or higher_less"
            ) from None
        column = str(_req(fd, "column", fw))
        factors.append(
            Factor(
                column=column,
                name_zh=str(fd.get("name_zh") or column),
                direction=dir_,
                weight=_fraction(_req(fd, "weight", fw), f"{fw} weight"),
            )
        )
    try:
        return WeightScheme(
            name=name,
            version=version,
            source=source,
            factors=tuple(factors),
            spread_frac=_fraction(d.get("spread", 0), f"{where} spread"),
        )
    except DecompositionError as exc:
        raise ReferenceDataError(f"{where}: {exc}") from exc


def efficiency_scheme_from_mapping(
    data: Any, *, version: str, where: str = "efficiency"
) -> EfficiencyScheme:
    """``potential`` (a column or derived factor), ``min_/max_frac_of_province_target``."""
    d = _mapping(data, where)
    keys = {"potential", "min_frac_of_province_target", "max_frac_of_province_target"}
    name, source = _header(d, "efficiency", keys, where)
    try:
        return EfficiencyScheme(
            name=name,
            version=version,
            source=source,
            potential=str(_req(d, "potential", where)),
            min_frac_of_province_target=_fraction(
                _req(d, "min_frac_of_province_target", where), f"{where} min"
            ),
            max_frac_of_province_target=_fraction(
                _req(d, "max_frac_of_province_target", where), f"{where} max"
            ),
        )
    except DecompositionError as exc:
        raise ReferenceDataError(f"{where}: {exc}") from exc


def tier_scheme(spec: str | None = None) -> TierScheme:
    version, data, where = resolve("tiers", spec)
    return tier_scheme_from_mapping(data, version=version, where=where)


def weight_scheme(spec: str | None = None) -> WeightScheme:
    version, data, where = resolve("weights", spec)
    return weight_scheme_from_mapping(data, version=version, where=where)


def efficiency_scheme(spec: str | None = None) -> EfficiencyScheme:
    version, data, where = resolve("efficiency", spec)
    return efficiency_scheme_from_mapping(data, version=version, where=where)
