"""Department names of plan documents: one name per body, and a proposal for names not known.

Documents write one body many ways: ``省发改委`` = ``省发展改革委`` = ``省发展和改革委员会``.  The
registry (vocabulary ``departments``: canonical short name and aliases of each body, compared after
the level prefix ``省`` / ``市`` / ``县`` / ``国家`` …) gives every form its canonical name
(:meth:`DepartmentRegistry.canonical`).  A name the registry does not know is kept as written and
:meth:`DepartmentRegistry.resolve` proposes the closest known body for an officer to confirm.
:func:`plausible_department` is the guard that keeps sentence fragments out of department lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any


class DepartmentRegistryError(ValueError):
    """The department registry data is malformed (names the entry)."""


@dataclass(frozen=True)
class DepartmentMatch:
    """How a written name resolves: canonical name, whether the registry knows it, a proposal."""

    written: str
    canonical: str
    known: bool
    suggestion: str | None = None
    similarity: float = 0.0


@dataclass(frozen=True)
class DepartmentRegistry:
    """Canonical department names and their aliases (from the plan vocabulary)."""

    prefixes: tuple[str, ...]
    aliases: tuple[tuple[str, str], ...]  # (written body, canonical body)

    @classmethod
    def from_mapping(
        cls, entries: Sequence[Mapping[str, Any]] | None, prefixes: Iterable[str] = ()
    ) -> DepartmentRegistry:
        pairs: dict[str, str] = {}
        for index, entry in enumerate(entries or ()):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("canonical"), str):
                raise DepartmentRegistryError(f"departments[{index}]: needs a canonical name")
            canonical = entry["canonical"]
            aliases = entry.get("aliases") or []
            if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
                raise DepartmentRegistryError(f"departments[{index}] {canonical}: bad aliases")
            pairs.setdefault(canonical, canonical)
            for alias in aliases:
                if alias in pairs and pairs[alias] != canonical:
                    raise DepartmentRegistryError(
                        f"departments: {alias!r} is an alias of {pairs[alias]!r} and {canonical!r}"
                    )
                pairs[alias] = canonical
        return cls(
            prefixes=tuple(sorted(set(prefixes), key=lambda p: (-len(p), p))),
            aliases=tuple(sorted(pairs.items(), key=lambda kv: (-len(kv[0]), kv[0]))),
        )

    @property
    def canonical_bodies(self) -> tuple[str, ...]:
        return tuple(sorted({c for _, c in self.aliases}))

    def _split(self, name: str) -> tuple[str, str]:
        for prefix in self.prefixes:
            if name.startswith(prefix) and len(name) > len(prefix) + 1:
                return prefix, name[len(prefix) :]
        return "", name

    def canonical(self, name: str) -> str:
        """``省发改委`` → ``省发展改革委``; a name the registry does not know is returned as written."""
        prefix, body = self._split(name)
        table = dict(self.aliases)
        if body in table:
            return prefix + table[body]
        if name in table:
            return table[name]
        return name

    def resolve(self, name: str) -> DepartmentMatch:
        """The canonical name, or (unknown name) the closest known body with the same prefix."""
        canonical = self.canonical(name)
        prefix, body = self._split(canonical)
        table = dict(self.aliases)
        if body in table.values() or canonical in table.values():
            return DepartmentMatch(name, canonical, True)
        best: tuple[float, str] | None = None
        for known in self.canonical_bodies:
            score = SequenceMatcher(None, body, known).ratio()
            if best is None or score > best[0]:
                best = (score, known)
        if best is None or best[0] < 0.5:
            return DepartmentMatch(name, canonical, False)
        return DepartmentMatch(name, canonical, False, prefix + best[1], round(best[0], 3))


_SENTENCE_PUNCTUATION = re.compile(r"[，。；：！？,;:!?“”\"]")


def plausible_department(name: str, suffixes: Sequence[str], bare_levels: re.Pattern[str]) -> bool:
    """Whether ``name`` can be a department (no sentence fragments, digits or cut-off stubs)."""
    if not name or len(name) < 2 or len(name) > 40:
        return False
    if _SENTENCE_PUNCTUATION.search(name) or re.search(r"\d", name):
        return False
    if bare_levels.match(name):
        return True
    return name.endswith(tuple(suffixes))
