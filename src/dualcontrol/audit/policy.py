"""The audit policy (reference/data/audit_policy.yaml): redaction list, retention, page verification.

Redaction runs inside :func:`dualcontrol.audit.services.record`, so no caller can store a secret
(a password hash in a user snapshot, an API-token hash, a second-factor seed or code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from dualcontrol.reference import load_yaml

POLICY_FILE = "audit_policy.yaml"
# 网络安全法 第二十一条 (三) (第二十三条 (三) since 2026-01-01): network logs kept "不少于六个月".
# Six calendar months span up to 184 days (1 July – 1 January): the floor of every retention setting
# and of the database trigger that lets `audit prune` delete (migration 0004).
MINIMUM_RETENTION_DAYS = 184


@dataclass(frozen=True)
class Policy:
    version: str
    marker: str
    keys: frozenset[str]
    key_patterns: tuple[re.Pattern[str], ...]
    keys_by_object_type: dict[str, frozenset[str]]
    value_patterns: tuple[re.Pattern[str], ...]
    page_max_entries: int


def _norm(key: str) -> str:
    return re.sub(r"[-\s]+", "_", key.strip()).lower()


def retention_problems(days: Any) -> list[str]:
    """Why ``days`` is not an acceptable retention (empty when it is)."""
    if isinstance(days, bool) or not isinstance(days, int):
        return [f"retention days must be a whole number of days, not {days!r}"]
    if days < MINIMUM_RETENTION_DAYS:
        return [
            f"retention of {days} days is below the legal minimum of six months "
            f"({MINIMUM_RETENTION_DAYS} days; 网络安全法 第二十一条（三）/ 修正后第二十三条（三）"
            "“留存相关的网络日志不少于六个月”)"
        ]
    return []


def policy() -> Policy:
    """The redaction list and page settings; refuses (ImproperlyConfigured) a malformed file.

    The retention is read separately (:func:`retention_days`): a wrong retention refuses pruning
    and fails the system check, but never stops the platform from recording.
    """
    return _build()


@cache
def _build() -> Policy:
    version, data = load_yaml(POLICY_FILE)
    problems: list[str] = []
    red = data.get("redaction") or {}
    keys = frozenset(_norm(str(k)) for k in red.get("keys") or [])
    patterns: list[re.Pattern[str]] = []
    for text in red.get("key_patterns") or []:
        try:
            patterns.append(re.compile(str(text), re.IGNORECASE))
        except re.error as exc:
            problems.append(f"redaction.key_patterns {text!r}: {exc}")
    values: list[re.Pattern[str]] = []
    for text in red.get("value_patterns") or []:
        try:
            values.append(re.compile(str(text)))
        except re.error as exc:
            problems.append(f"redaction.value_patterns {text!r}: {exc}")
    by_type = {
        str(t).lower(): frozenset(_norm(str(k)) for k in ks)
        for t, ks in (red.get("keys_by_object_type") or {}).items()
    }
    if not keys:
        problems.append("redaction.keys is empty")
    page_max = (data.get("verification") or {}).get("page_max_entries")
    if isinstance(page_max, bool) or not isinstance(page_max, int) or page_max < 0:
        problems.append(
            f"verification.page_max_entries must be a whole number ≥ 0, not {page_max!r}"
        )
    if problems:
        raise ImproperlyConfigured(f"{POLICY_FILE}: " + "; ".join(problems))
    return Policy(
        version=version,
        marker=str(red.get("marker") or "[redacted]"),
        keys=keys,
        key_patterns=tuple(patterns),
        keys_by_object_type=by_type,
        value_patterns=tuple(values),
        page_max_entries=int(page_max),
    )


def configured_retention() -> tuple[str, Any]:
    """(where it is set, value): settings.AUDIT_RETENTION_DAYS overrides the policy file."""
    configured = getattr(settings, "AUDIT_RETENTION_DAYS", None)
    if configured is not None:
        return "settings.AUDIT_RETENTION_DAYS", configured
    _, data = load_yaml(POLICY_FILE)
    return f"{POLICY_FILE} retention.days", (data.get("retention") or {}).get("days")


def retention_days() -> int:
    """Days an entry is kept; ImproperlyConfigured when below six months or not a number."""
    where, days = configured_retention()
    problems = retention_problems(days)
    if problems:
        raise ImproperlyConfigured(f"{where}: " + "; ".join(problems))
    return int(days)


def _secret_key(p: Policy, key: str, extra: frozenset[str]) -> bool:
    k = _norm(key)
    return k in p.keys or k in extra or any(rx.fullmatch(k) for rx in p.key_patterns)


def _scrub_text(p: Policy, text: str) -> str:
    for rx in p.value_patterns:
        text = rx.sub(p.marker, text)
    return text


def redact(value: Any, *, object_type: str = "", p: Policy | None = None) -> Any:
    """``value`` with every secret replaced by the marker (dict keys at any depth, password hashes)."""
    p = p or policy()
    extra = p.keys_by_object_type.get(object_type.lower(), frozenset())

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            return {
                k: (
                    p.marker
                    if _secret_key(p, str(k), extra) and v[k] not in (None, "")
                    else walk(v[k])
                )
                for k in v
            }
        if isinstance(v, list | tuple):
            return [walk(x) for x in v]
        if isinstance(v, str) and any(rx.search(v) for rx in p.value_patterns):
            return p.marker
        return v

    return walk(value)


_TEXT_KEY = re.compile(r"(?P<key>[^\W\d][\w-]*)\s*[=:：]\s*")
_TEXT_VALUE = re.compile(r"\"[^\"]*\"|'[^']*'|[^\s,;，；。、]+")


def redact_text(text: str, *, p: Policy | None = None) -> str:
    """A note or description with ``secret=value`` / ``secret: value`` pairs and password hashes hidden."""
    p = p or policy()
    out: list[str] = []
    pos = 0
    for m in _TEXT_KEY.finditer(text):
        if m.start() < pos or not _secret_key(p, m.group("key"), frozenset()):
            continue
        value = _TEXT_VALUE.match(text, m.end())
        if value is None:
            continue
        out += [text[pos : m.end()], p.marker]
        pos = value.end()
    return _scrub_text(p, "".join(out) + text[pos:])
