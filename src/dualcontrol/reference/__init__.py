"""Versioned reference data: coefficients, factors, rule sets, scoring sheets, catalogues.

Every data file lives in ``reference/data/`` as CSV (tables) or YAML/JSON (rule sets) and every
row carries ``source``, ``valid_from`` and ``valid_to`` (empty = open-ended).  A table's
*version* is its file name plus the first 12 hex digits of the SHA-256 of its bytes, so any
computed figure can record exactly which data produced it.

Topic modules (``reference/<topic>.py``) turn these tables into the plain dataclasses that
:mod:`dualcontrol.core` takes.  Loading is the only I/O here; the core never reads files.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

DATA_PACKAGE = "dualcontrol.reference.data"


class ReferenceDataError(ValueError):
    """A reference file is malformed (names the file, row and column)."""


@dataclass(frozen=True)
class ReferenceTable:
    """The rows of one reference file plus its version stamp."""

    name: str
    version: str
    rows: tuple[dict[str, str], ...]

    def valid_on(self, day: dt.date) -> tuple[dict[str, str], ...]:
        """Rows whose [valid_from, valid_to] interval contains ``day``."""
        return tuple(r for r in self.rows if row_valid_on(r, day))


def _raw(name: str) -> bytes:
    try:
        return resources.files(DATA_PACKAGE).joinpath(name).read_bytes()
    except FileNotFoundError as exc:
        raise ReferenceDataError(f"reference file {name!r} not found") from exc


def version_of(name: str, raw: bytes) -> str:
    return f"{name}@{hashlib.sha256(raw).hexdigest()[:12]}"


def parse_date(value: str, *, where: str) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ReferenceDataError(f"{where}: {value!r} is not an ISO date (YYYY-MM-DD)") from exc


def row_valid_on(row: dict[str, str], day: dt.date) -> bool:
    start = parse_date(row.get("valid_from", ""), where="valid_from")
    end = parse_date(row.get("valid_to", ""), where="valid_to")
    return (start is None or start <= day) and (end is None or day <= end)


@cache
def load_csv(
    name: str, required: tuple[str, ...] = ("source", "valid_from", "valid_to")
) -> ReferenceTable:
    """Read ``reference/data/<name>`` (UTF-8 CSV; ``#`` lines at the top are comments)."""
    raw = _raw(name)
    text = raw.decode("utf-8-sig")
    lines = [ln for ln in text.splitlines() if not ln.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise ReferenceDataError(f"{name}: missing column(s) {', '.join(missing)}")
    rows = []
    for i, row in enumerate(reader, start=2):
        clean = {k: (v or "").strip() for k, v in row.items() if k is not None}
        for col in ("valid_from", "valid_to"):
            if col in clean:
                parse_date(clean[col], where=f"{name} row {i} column {col}")
        if "source" in required and not clean.get("source"):
            raise ReferenceDataError(f"{name} row {i}: every row needs a source")
        rows.append(clean)
    return ReferenceTable(name=name, version=version_of(name, raw), rows=tuple(rows))


@cache
def load_json(name: str) -> tuple[str, Any]:
    """Read ``reference/data/<name>`` as JSON; returns (version, data)."""
    raw = _raw(name)
    try:
        return version_of(name, raw), json.loads(raw.decode("utf-8"))
    except json.JSONDecodeError as exc:
        raise ReferenceDataError(f"{name}: invalid JSON: {exc}") from exc


@cache
def load_yaml(name: str) -> tuple[str, Any]:
    """Read ``reference/data/<name>`` as YAML (rule sets, scoring sheets); returns (version, data)."""
    import yaml

    raw = _raw(name)
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except yaml.YAMLError as exc:
        raise ReferenceDataError(f"{name}: invalid YAML: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("references"), dict):
        data = _expand_references(data, {str(k): str(v) for k, v in data["references"].items()})
    return version_of(name, raw), data


def _expand_references(data: Any, refs: dict[str, str]) -> Any:
    """A file whose ``source`` texts cite its own numbered sources (``S7``, ``[6]``) lists them under
    ``references`` (official title and number); every ``…source…`` text then carries the official
    citation after the tag, so that pages can show it (:mod:`dualcontrol.core.sources`)."""
    import re

    pattern = re.compile(
        "|".join(
            rf"(?<![A-Za-z0-9]){re.escape(k)}(?![0-9])" for k in sorted(refs, key=len, reverse=True)
        )
    )

    def walk(node: Any, in_source: bool) -> Any:
        if isinstance(node, dict):
            return {
                k: v if k == "references" else walk(v, in_source or "source" in str(k))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [walk(v, in_source) for v in node]
        if in_source and isinstance(node, str):
            return pattern.sub(lambda m: f"{m.group(0)}〈{refs[m.group(0)]}〉", node)
        return node

    return walk(data, False)
