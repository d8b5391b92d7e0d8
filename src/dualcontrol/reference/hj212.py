"""HJ 212 code tables (``hj212_*.csv``) -> :class:`dualcontrol.core.hj212.Hj212Tables`."""

from __future__ import annotations

from functools import cache

from dualcontrol.core.hj212 import CommandSpec, Hj212Tables
from dualcontrol.reference import ReferenceDataError, load_csv

VERSIONS_FILE = "hj212_versions.csv"
SYSTEMS_FILE = "hj212_systems.csv"
COMMANDS_FILE = "hj212_commands.csv"
POLLUTANTS_FILE = "hj212_pollutants.csv"
CODES_2005_FILE = "hj212_codes_2005.csv"
DATA_FLAGS_FILE = "hj212_data_flags.csv"
FILES = (
    VERSIONS_FILE,
    SYSTEMS_FILE,
    COMMANDS_FILE,
    POLLUTANTS_FILE,
    CODES_2005_FILE,
    DATA_FLAGS_FILE,
)


def _unique(pairs: list[tuple[str, str]], name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise ReferenceDataError(f"{name}: {key!r} appears twice")
        out[key] = value
    return out


@cache
def hj212_tables() -> Hj212Tables:
    """All HJ 212 tables (every row, whatever its validity dates: receivers accept all versions)."""
    versions_t = load_csv(VERSIONS_FILE)
    versions: dict[int, str] = {}
    legacy: set[int] = set()
    for row in versions_t.rows:
        try:
            number = int(row["version_number"])
        except ValueError as exc:
            raise ReferenceDataError(f"{VERSIONS_FILE}: bad version_number {row!r}") from exc
        if number in versions or not 0 <= number <= 63:
            raise ReferenceDataError(f"{VERSIONS_FILE}: version_number {number} repeated or > 63")
        versions[number] = row["standard"]
        if row["code_set"] == "2005":
            legacy.add(number)
    commands: dict[str, CommandSpec] = {}
    platform_commands: dict[str, str] = {}
    for row in load_csv(COMMANDS_FILE).rows:
        if row["direction"] == "platform":
            if row["cn"] in platform_commands:
                raise ReferenceDataError(f"{COMMANDS_FILE}: platform CN {row['cn']} appears twice")
            platform_commands[row["cn"]] = row["name_zh"]
            continue
        if row["direction"] != "station":
            raise ReferenceDataError(f"{COMMANDS_FILE}: CN {row['cn']}: bad direction")
        if row["cn"] in commands:
            raise ReferenceDataError(f"{COMMANDS_FILE}: CN {row['cn']} appears twice")
        if row["kind"] not in ("upload", "notify", "interaction"):
            raise ReferenceDataError(f"{COMMANDS_FILE}: CN {row['cn']}: bad kind {row['kind']!r}")
        commands[row["cn"]] = CommandSpec(
            cn=row["cn"], name_zh=row["name_zh"], kind=row["kind"], reply_cn=row["reply_cn"] or None
        )
    pollutants = _unique(
        [(r["code"], r["name_zh"]) for r in load_csv(POLLUTANTS_FILE).rows], POLLUTANTS_FILE
    )
    legacy_codes = _unique(
        [(r["code_2005"], r["code_2017"]) for r in load_csv(CODES_2005_FILE).rows],
        CODES_2005_FILE,
    )
    unknown = sorted(set(legacy_codes.values()) - set(pollutants))
    if unknown:
        raise ReferenceDataError(
            f"{CODES_2005_FILE}: 2017 code(s) not in {POLLUTANTS_FILE}: {unknown}"
        )
    flags: dict[str, set[str]] = {}
    for row in load_csv(DATA_FLAGS_FILE).rows:
        flags.setdefault(row["standard"], set()).add(row["flag"])
    systems = _unique([(r["st"], r["name_zh"]) for r in load_csv(SYSTEMS_FILE).rows], SYSTEMS_FILE)
    return Hj212Tables(
        versions=versions,
        legacy_versions=frozenset(legacy),
        systems=systems,
        commands=commands,
        platform_commands=platform_commands,
        pollutants=pollutants,
        legacy_codes=legacy_codes,
        data_flags={k: frozenset(v) for k, v in flags.items()},
        version=";".join(load_csv(name).version for name in FILES),
    )


def data_flag_meanings() -> dict[tuple[str, str], str]:
    """(standard, flag) -> meaning, for display (数据标记含义)."""
    return {(r["standard"], r["flag"]): r["meaning_zh"] for r in load_csv(DATA_FLAGS_FILE).rows}
