"""The official part of a source text, as officers see it (:mod:`dualcontrol.core.sources`), with
the table of known documents from ``reference/data/source_titles.yaml``."""

from __future__ import annotations

from functools import cache
from typing import Any

from dualcontrol.core.sources import Citation, KnownDocument, cite, official_hosts_only, scrub
from dualcontrol.reference import load_yaml

FILE = "source_titles.yaml"


@cache
def _table() -> tuple[tuple[KnownDocument, ...], tuple[str, ...]]:
    _version, data = load_yaml(FILE)
    docs = tuple(
        KnownDocument(str(d["match"]), str(d["title"]), str(d.get("number") or ""))
        for d in data["documents"]
    )
    return docs, tuple(str(h) for h in data["official_hosts"])


def citation(text: str | None) -> Citation:
    return cite(text, _table()[0])


def official_source(text: str | None) -> str:
    """One line for a page: official titles and numbers, the quotation, the platform-rule label."""
    return citation(text).text()


def official_urls(text: str | None) -> list[str]:
    """The addresses in ``text`` on an official host (shown as links beside the citation)."""
    return official_hosts_only(text or "", _table()[1])


def scrubbed(text: str | None) -> str:
    """A provenance text in full, without research paths and unofficial addresses."""
    docs, hosts = _table()
    return scrub(text or "", docs, hosts)


def scrub_tree(value: Any) -> Any:
    """Every string of a JSON value (a figure's provenance) scrubbed."""
    if isinstance(value, dict):
        return {k: scrub_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_tree(v) for v in value]
    if isinstance(value, str):
        return scrubbed(value)
    return value
