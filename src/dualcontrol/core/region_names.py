"""Short names of divisions for places where the full name does not fit.

An autonomous prefecture, county or banner is named "place + ethnic groups + 自治州/县/旗"
(怒江傈僳族自治州, 红河哈尼族彝族自治州); its short name is "place + 州/县/旗" (怒江州, 红河州).
Every other name is returned as it is. The ethnic groups and suffixes are reference data
(``ethnic_groups.yaml``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def short_name(name: str, groups: Iterable[str], suffixes: Mapping[str, str]) -> str:
    """``name`` shortened when it is an autonomous division's, else ``name``."""
    names = sorted(set(groups), key=len, reverse=True)
    for suffix, short in suffixes.items():
        if not name.endswith(suffix):
            continue
        stem = name[: -len(suffix)]
        for i in range(1, len(stem)):
            if _only_groups(stem[i:], names):
                return stem[:i] + short
    return name


def _only_groups(text: str, names: list[str]) -> bool:
    """Whether ``text`` is one or more ethnic group names one after another."""
    if not text:
        return True
    return any(text.startswith(g) and _only_groups(text[len(g) :], names) for g in names)
