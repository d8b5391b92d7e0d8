"""Plan documents (工作方案 / 规划 / 实施方案) → numbered items, tasks and their departments.

A provincial plan is a tree of numbered paragraphs (``一、`` › ``（一）`` › ``1.`` › ``（1）`` …) that
ends each task with the departments responsible for it, in one of the genre's phrasings::

    …（省发展改革委、工业信息化委、环境保护厅）                 bare list, the first-named leads
    …（责任单位：省发展改革委、省财政厅等）                     labelled, the first-named leads
    …(牵头单位:省经济和信息化委，参加单位:省发展改革委…等)   explicit leads and participants
    …（省住房城乡建设厅负责）  …（各州、市人民政府等按职责分工负责）
    …牵头单位：省能源局；配合单位：省财政厅、省统计局。

:func:`parse_plan` takes the text (or its paragraphs) and returns a :class:`Plan`: the tree of
:class:`PlanItem` and, derived from it, the tasks.  The rules (docs/plans.md):

* **Numbering.**  A paragraph that starts with a numbering label is an item; the label's *style*
  (``一、`` / ``（一）`` / ``1.`` / ``（1）`` / ``1)`` / ``①`` / ``第一章`` / ``A.``, half- or
  full-width) gives its level: a style not on the current path opens a deeper level, a style
  already on the path closes the levels below it.  So any nesting order works, and numbering that
  runs on across sections (Qinghai's ``(三)`` … ``(四十九)``) too.  Unnumbered paragraphs belong to
  the item above them.  ``附件`` starts an annex (numbering restarts); ``抄送：`` ends the body;
  a signature date line closes what precedes it (items before it, when numbered items follow,
  belong to a covering 印发通知 and are context).
* **Departments.**  An item carries departments when one of its paragraphs ends with an
  attribution clause (above).  Leads are the names marked 牵头 (label, verb or marker); without
  such a mark the first-named leads and the others participate, unless the document says
  otherwise (``排名不分先后`` → every name without a role leads).  Names are normalised: the
  prefix of the first name of a ``、`` list is distributed over the bare names after it
  (``省统计局、发展改革委`` → ``省统计局``, ``省发展改革委``); ``州、市人民政府``, companies and
  bodies that name their own place are kept as written; ``等`` is dropped; duplicates go.
* **Tasks.**  A task is a numbered item that carries departments, or a numbered leaf item
  inside a top-level part where some item carries departments (so a task whose departments are
  missing still appears, with empty lists).  Parts without any department — the 总体要求 /
  指导思想 preamble, the prose work plan before a 部门分工 list, annexes — give context, not
  tasks.  A document without any department gives every numbered leaf item as a task.
  Unattributed items below a task are its details: folded into its text and targets.
* **Targets.**  A quantity (number + unit) in an item's text is a candidate target when a target
  word precedes it in its clause (``达到`` ``下降`` ``控制在`` ``建成`` …) or a bound ends the
  clause (``…以上``); thresholds (``10蒸吨以下的``) and baselines (``比2010年的56.4万吨``) are
  not.  Its year is the last deadline before it in the sentence (``到2020年``, ``2017年底前``,
  ``“十三五”期间``); failing that, the plan's target year (its period's last year).

Issue 15 (documents of any genre, corpus tests/data/plans/corpus/): the text is normalised first
(:mod:`dualcontrol.core.plans_text`); clauses may also use ``〔…〕``, stand inside a paragraph, read
``X会同Y``, close a paragraph as a sentence (``省发展改革委会同省财政厅负责。``), be cut off by the end
of the text, or carry parties over to later tasks (``下同``, ``以下各项工作均需…落实``); items titled
like context (总体要求, 主要目标 …) are never tasks; names are deduplicated through the department
registry (:mod:`dualcontrol.core.plans_departments`); every quantitative target of a document, with
its indicator code, comes from :func:`dualcontrol.core.plans_targets.extract_targets`.

Vocabulary (role words, department suffixes, units, target words …) is data:
``reference/data/plans_vocabulary.yaml`` → :meth:`PlanVocabulary.from_mapping`.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Literal

from dualcontrol.core.plans_departments import (
    DepartmentRegistry,
    DepartmentRegistryError,
    plausible_department,
)
from dualcontrol.core.plans_text import normalise_text, traditional_table

Role = Literal["lead", "participating", "responsible"]
ROLES: tuple[Role, ...] = ("lead", "participating", "responsible")

CN_DIGITS = "零〇一二三四五六七八九十百千两"
_CN_VALUE = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_FULLWIDTH = str.maketrans("０１２３４５６７８９．", "0123456789.")
_SPACES = " \t\r\n\u3000\xa0\ufeff\u200b\u200c\u200d\u2002\u2003\u2009"


class PlanParseError(ValueError):
    """Input that is not a plan document's text (the parser's only error)."""


class PlanVocabularyError(ValueError):
    """The plan vocabulary data is malformed (names the key)."""


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Target:
    """候选指标 — a quantity in a task's text that may be a target (for an officer to confirm)."""

    value: Decimal
    unit: str
    year: int | None
    text: str
    value_max: Decimal | None = None
    year_explicit: bool = True
    indicator: str | None = None  # catalogue code (reference/data/indicators.yaml), None if unknown
    base_year: int | None = None  # 比2020年下降… → 2020
    region: str | None = None  # 全省 / 全市 / 市区 …
    sector: str | None = None  # 钢铁、电解铝…行业
    sentence: str = ""  # the whole sentence the target came from


@dataclass(frozen=True)
class Attribution:
    """责任分工 — the departments an item names: leads (牵头) and participants (参加/配合)."""

    lead: tuple[str, ...]
    participating: tuple[str, ...]
    clause: str
    carried: tuple[str, ...] = ()  # parties a 下同 / 以下均需… sentence carries to later tasks


@dataclass(frozen=True)
class PlanItem:
    """编号条目 — one numbered item of a plan (a heading, a task, or both)."""

    number: str  # canonical label: 一 / （一） / 1 / （1） / 1） / ① / 第一章 / A / 附件
    ordinal: int
    style: str
    title: str
    text: str  # the item's own paragraphs as written, label removed, joined with newlines
    section: tuple[str, ...]  # headings of the enclosing items, from the top
    path: tuple[str, ...]  # numbers of the enclosing items and this one
    line: int  # 1-based paragraph index of the item's first paragraph in the input
    attribution: Attribution | None
    targets: tuple[Target, ...]
    children: tuple[PlanItem, ...]
    is_task: bool = False

    @property
    def heading(self) -> str:
        """The item as a section heading: label and title (``（一）强化节能减排目标责任``)."""
        return _display_label(self.style, self.number) + self.title

    @property
    def key(self) -> str:
        """A reference unique within the plan for well-numbered documents: ``二/（一）/1/（1）``."""
        return "/".join(self.path)

    @property
    def lead_departments(self) -> tuple[str, ...]:
        return self.attribution.lead if self.attribution else ()

    @property
    def participating_departments(self) -> tuple[str, ...]:
        return self.attribution.participating if self.attribution else ()

    def walk(self) -> Iterator[PlanItem]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class Plan:
    """A parsed plan document: its title, target year, items (tree) and tasks."""

    title: str | None
    target_year: int | None
    lead_rule: Literal["first", "all"]
    items: tuple[PlanItem, ...]
    vocabulary_version: str = ""

    def walk(self) -> Iterator[PlanItem]:
        """Every numbered item in document order."""
        for item in self.items:
            yield from item.walk()

    @property
    def tasks(self) -> tuple[PlanItem, ...]:
        """The tasks (see the module docstring for the rule), in document order."""
        return tuple(item for item in self.walk() if item.is_task)


# --------------------------------------------------------------------------------------------
# Vocabulary


@dataclass(frozen=True)
class IndicatorRule:
    """A quantitative target → indicator catalogue code rule (vocabulary ``target_indicators``)."""

    code: str
    groups: tuple[tuple[str, ...], ...]  # every group needs one of its words in the subject
    units: tuple[str, ...]  # unit suffixes ('%' for percentages)

    @classmethod
    def from_mapping(cls, data: Any, index: int) -> IndicatorRule:
        if not isinstance(data, Mapping) or not isinstance(data.get("code"), str):
            raise PlanVocabularyError(f"plan vocabulary: target_indicators[{index}] needs a code")
        groups: list[tuple[str, ...]] = []
        for key in ("all", "also"):
            for group in data.get(key) or []:
                if not isinstance(group, list) or not all(isinstance(w, str) and w for w in group):
                    raise PlanVocabularyError(
                        f"plan vocabulary: target_indicators[{index}] {key}: lists of words"
                    )
                groups.append(tuple(group))
        units = data.get("units") or []
        if not groups or not isinstance(units, list) or not all(isinstance(u, str) for u in units):
            raise PlanVocabularyError(
                f"plan vocabulary: target_indicators[{index}] needs words and units"
            )
        return cls(code=data["code"], groups=tuple(groups), units=tuple(units))

    def matches(self, subject: str, unit: str) -> bool:
        unit_ok = any(unit.endswith(u) or (u == "%" and unit in ("%", "％")) for u in self.units)
        return unit_ok and all(any(w in subject for w in group) for group in self.groups)


@dataclass(frozen=True)
class PlanVocabulary:
    """The genre's words, from ``reference/data/plans_vocabulary.yaml`` (see that file)."""

    role_labels: tuple[tuple[str, Role], ...]
    role_verbs: tuple[tuple[str, Role], ...]
    role_markers: tuple[tuple[str, Role], ...]
    lead_policy_all: tuple[str, ...]
    lead_policy_first: tuple[str, ...]
    department_suffixes: tuple[str, ...]
    not_department_prefixes: tuple[str, ...]
    distributable_prefixes: tuple[str, ...]
    qualified_prefixes: tuple[str, ...]
    keep_suffixes: tuple[str, ...]
    place_names: tuple[str, ...]
    admin_levels: tuple[str, ...]
    five_year_plans: tuple[tuple[str, int], ...]
    closing_markers: tuple[str, ...]
    annex_markers: tuple[str, ...]
    target_verbs: tuple[str, ...]
    target_bounds: tuple[str, ...]
    units: tuple[str, ...]
    per_units: tuple[str, ...]
    count_units: tuple[str, ...]
    percent_units: tuple[str, ...]
    version: str = ""
    joint_words: tuple[str, ...] = ()
    carry_over_markers: tuple[str, ...] = ()
    carry_over_patterns: tuple[str, ...] = ()
    context_headings: tuple[str, ...] = ()
    peak_words: tuple[str, ...] = ()
    target_indicators: tuple[IndicatorRule, ...] = ()
    target_regions: tuple[str, ...] = ()
    target_sector_suffixes: tuple[str, ...] = ()
    departments: DepartmentRegistry = field(
        default_factory=lambda: DepartmentRegistry(prefixes=(), aliases=())
    )
    traditional_characters: str = ""
    notice_markers: tuple[str, ...] = ()
    annual_plan_words: tuple[str, ...] = ()
    subject_units: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, version: str = "") -> PlanVocabulary:
        """Validate the YAML mapping and build the vocabulary (raises PlanVocabularyError)."""
        if not isinstance(data, Mapping):
            raise PlanVocabularyError("plan vocabulary: expected a mapping at the top level")

        def words(key: str, source: Mapping[str, Any] | None = None) -> tuple[str, ...]:
            src = data if source is None else source
            value = src.get(key)
            if not isinstance(value, list) or not all(isinstance(w, str) and w for w in value):
                raise PlanVocabularyError(f"plan vocabulary: {key!r} must be a list of words")
            return tuple(value)

        def by_role(key: str) -> tuple[tuple[str, Role], ...]:
            section = data.get(key)
            if not isinstance(section, Mapping):
                raise PlanVocabularyError(f"plan vocabulary: {key!r} must map roles to words")
            out: list[tuple[str, Role]] = []
            for role in ROLES:
                if role in section:
                    out.extend((w, role) for w in words(role, section))
            unknown = set(section) - set(ROLES)
            if unknown:
                raise PlanVocabularyError(f"plan vocabulary: {key!r} has unknown role(s) {unknown}")
            return tuple(out)

        policy = data.get("lead_policy")
        if not isinstance(policy, Mapping):
            raise PlanVocabularyError("plan vocabulary: 'lead_policy' must map all/first to words")
        periods = data.get("five_year_plans")
        if not isinstance(periods, Mapping) or not all(
            isinstance(k, str) and isinstance(v, int) for k, v in periods.items()
        ):
            raise PlanVocabularyError("plan vocabulary: 'five_year_plans' must map names to years")
        prefixes = words("distributable_prefixes")
        for pattern in prefixes:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise PlanVocabularyError(
                    f"plan vocabulary: distributable_prefixes {pattern!r}: {exc}"
                ) from exc

        def optional(key: str) -> tuple[str, ...]:
            return words(key) if key in data else ()

        carry = optional("carry_over_patterns")
        for pattern in carry:
            try:
                if "names" not in re.compile(pattern).groupindex:
                    raise PlanVocabularyError(
                        f"plan vocabulary: carry_over_patterns {pattern!r} needs a group 'names'"
                    )
            except re.error as exc:
                raise PlanVocabularyError(
                    f"plan vocabulary: carry_over_patterns {pattern!r}: {exc}"
                ) from exc
        rules: list[IndicatorRule] = []
        for index, rule in enumerate(data.get("target_indicators") or []):
            rules.append(IndicatorRule.from_mapping(rule, index))
        traditional = data.get("traditional_characters") or []
        if isinstance(traditional, list) and all(isinstance(t, str) for t in traditional):
            pairs = "".join(traditional)
        elif isinstance(traditional, str):
            pairs = traditional
        else:
            raise PlanVocabularyError("plan vocabulary: 'traditional_characters' must be text")
        if len(pairs) % 2:
            raise PlanVocabularyError("plan vocabulary: 'traditional_characters' must be pairs")
        subject_units = data.get("subject_units") or {}
        if not isinstance(subject_units, Mapping) or not all(
            isinstance(u, str)
            and u
            and isinstance(ws, list)
            and ws
            and all(isinstance(w, str) and w for w in ws)
            for u, ws in subject_units.items()
        ):
            raise PlanVocabularyError(
                "plan vocabulary: 'subject_units' must map units to lists of words"
            )
        try:
            registry = DepartmentRegistry.from_mapping(
                data.get("departments"), optional("department_prefixes")
            )
        except DepartmentRegistryError as exc:
            raise PlanVocabularyError(f"plan vocabulary: {exc}") from exc
        return cls(
            joint_words=optional("joint_words"),
            carry_over_markers=optional("carry_over_markers"),
            carry_over_patterns=carry,
            context_headings=optional("context_headings"),
            peak_words=optional("peak_words"),
            target_indicators=tuple(rules),
            target_regions=optional("target_regions"),
            target_sector_suffixes=optional("target_sector_suffixes"),
            departments=registry,
            traditional_characters=pairs,
            notice_markers=optional("notice_markers"),
            annual_plan_words=optional("annual_plan_words"),
            subject_units=tuple((u, tuple(ws)) for u, ws in subject_units.items()),
            role_labels=by_role("role_labels"),
            role_verbs=by_role("role_verbs"),
            role_markers=by_role("role_markers"),
            lead_policy_all=words("all", policy),
            lead_policy_first=words("first", policy),
            department_suffixes=words("department_suffixes"),
            not_department_prefixes=words("not_department_prefixes"),
            distributable_prefixes=prefixes,
            qualified_prefixes=words("qualified_prefixes"),
            keep_suffixes=words("keep_suffixes"),
            place_names=words("place_names"),
            admin_levels=words("admin_levels"),
            five_year_plans=tuple(sorted(periods.items(), key=lambda kv: -len(kv[0]))),
            closing_markers=words("closing_markers"),
            annex_markers=words("annex_markers"),
            target_verbs=words("target_verbs"),
            target_bounds=words("target_bounds"),
            units=words("units"),
            per_units=words("per_units"),
            count_units=words("count_units"),
            percent_units=words("percent_units"),
            version=version,
        )


def _alternation(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))


@dataclass(frozen=True)
class _Grammar:
    """Regular expressions compiled from one vocabulary."""

    label: re.Pattern[str]
    verb_suffix: re.Pattern[str]
    marker_suffix: re.Pattern[str]
    distributable: re.Pattern[str]
    admin_bare: re.Pattern[str]
    quantity: re.Pattern[str]
    year: re.Pattern[str]
    period: re.Pattern[str]
    verb: re.Pattern[str]
    verb_at_end: re.Pattern[str]
    bound: re.Pattern[str]
    closing: re.Pattern[str]
    annex: re.Pattern[str]
    role_of_label: dict[str, Role]
    role_of_verb: dict[str, Role]
    role_of_marker: dict[str, Role]
    period_year: dict[str, int]
    traditional: dict[int, int]
    carry_over: tuple[re.Pattern[str], ...]
    notice: re.Pattern[str] | None
    annual: re.Pattern[str] | None
    subject_units: dict[str, tuple[str, ...]]


@lru_cache(maxsize=8)
def _grammar(v: PlanVocabulary) -> _Grammar:
    labels = _alternation([w for w, _ in v.role_labels])
    levels = _alternation(v.admin_levels)
    unit_words = _alternation([*v.units, *(u for u, _ in v.subject_units)])
    per = _alternation([*v.units, *v.per_units])
    percent = _alternation(v.percent_units)
    unit = (
        rf"(?:{percent}|(?:[万亿千百]{{0,2}}?(?:{unit_words}))"
        rf"(?:/[万亿千百]{{0,2}}?(?:{per}))?)"
    )
    number = r"\d+(?:\.\d+)?"
    return _Grammar(
        label=re.compile(rf"({labels})\s*[:：]"),
        verb_suffix=re.compile(rf"(?:{_alternation([w for w, _ in v.role_verbs])})$"),
        marker_suffix=re.compile(rf"(?:{_alternation([w for w, _ in v.role_markers])})$"),
        distributable=re.compile("|".join(f"(?:^{p})" for p in v.distributable_prefixes)),
        admin_bare=re.compile(
            rf"^(?:各|有关|相关)?(?:{levels})(?:[（(](?:{levels})[）)])?$"
            rf"|^(?:各|有关|相关)?(?:{levels})(?:[（(](?:{levels})[）)])?(?:人民政府|政府)$"
        ),
        quantity=re.compile(
            rf"(?<![0-9A-Za-z.第])(?P<a>{number})(?:\s*(?:%|％))?"
            rf"(?:\s*(?:-|－|—|–|~|～|至)\s*(?P<b>{number}))?\s*(?P<unit>{unit})"
        ),
        year=re.compile(
            r"(?P<pre>到|至|截至|截止|比|较|与|同|自|从|在|于)?\s*(?P<y>(?:19|20)\d{2})\s*年(?![本版])"
            r"(?P<post>底前|末前|底|末|前|以前|之前|左右|起|开始|基础上|的|可比价|水平|同期)?"
        ),
        period=re.compile(
            rf"(?P<pre>到|至|比|较|与|同|在)?\s*[“\"]?(?P<p>{_alternation([k for k, _ in v.five_year_plans])})"
            r"[”\"]?(?P<post>期间|末|时期|规划期|基础上)?"
        ),
        verb=re.compile(_alternation(v.target_verbs)),
        verb_at_end=re.compile(rf"(?:{_alternation(v.target_verbs)})(?:约|了|到|至)?\s*$"),
        bound=re.compile(rf"^(?:{_alternation(v.target_bounds)})"),
        closing=re.compile(rf"^(?:{_alternation(v.closing_markers)})\s*[:：]"),
        annex=re.compile(
            rf"^(?:{_alternation(v.annex_markers)})\s*[0-9一二三四五六七八九十]*\s*(?:[:：]|$|\s)"
        ),
        role_of_label=dict(v.role_labels),
        role_of_verb=dict(v.role_verbs),
        role_of_marker=dict(v.role_markers),
        period_year=dict(v.five_year_plans),
        traditional=traditional_table(v.traditional_characters),
        carry_over=tuple(re.compile(p) for p in v.carry_over_patterns),
        notice=re.compile(_alternation(v.notice_markers)) if v.notice_markers else None,
        annual=(
            re.compile(rf"((?:19|20)\d{{2}})\s*年度?(?:{_alternation(v.annual_plan_words)})")
            if v.annual_plan_words
            else None
        ),
        subject_units=dict(v.subject_units),
    )


# --------------------------------------------------------------------------------------------
# Numbering labels

_CN = f"[{CN_DIGITS}]+"
_AR = "[0-9０-９]{1,3}"
_LABELS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("chapter", re.compile(rf"^第\s*({_CN}|{_AR})\s*(章|部分|篇)[、：:．.\s]*")),
    ("subchapter", re.compile(rf"^第\s*({_CN}|{_AR})\s*节[、：:．.\s]*")),
    ("article", re.compile(rf"^第\s*({_CN}|{_AR})\s*条[、：:．.\s]*")),
    ("paren_cn", re.compile(rf"^[（(]\s*({_CN})\s*[）)][、.．，,\s]*")),
    ("paren_arabic", re.compile(rf"^[（(]\s*({_AR})\s*[）)][、.．，,\s]*")),
    ("paren_arabic", re.compile(r"^([\u2474-\u2487])[、.．\s]*")),  # ⑴ … ⒇
    ("circled", re.compile(r"^([\u2460-\u2473\u3251-\u325f\u32b1-\u32bf])[、.．\s]*")),
    ("cn", re.compile(rf"^({_CN})\s*[、．.]\s*")),
    ("arabic", re.compile(rf"^({_AR})\s*[.．、](?![0-9０-９])\s*")),
    ("arabic", re.compile(r"^([\u2488-\u249b])\s*")),  # ⒈ … ⒛
    ("arabic_paren", re.compile(rf"^({_AR})\s*[)）]\s*")),
    ("latin", re.compile(r"^([A-Za-z])\s*[.．、)）]\s*(?=[\u4e00-\u9fff“《（(])")),
)


def chinese_numeral(text: str) -> int:
    """Value of a Chinese numeral (一 … 九十九, 一百零一); 0 when it is not one."""
    total = 0
    current = 0
    for ch in text:
        if ch in _CN_VALUE:
            current = _CN_VALUE[ch]
        elif ch in _CN_UNIT:
            total += (current or 1) * _CN_UNIT[ch]
            current = 0
        else:
            return 0
    return total + current


def _ordinal(style: str, raw: str) -> int:
    raw = raw.translate(_FULLWIDTH)
    if raw.isascii() and raw.isdigit():
        return int(raw)
    if len(raw) == 1:
        code = ord(raw)
        if 0x2474 <= code <= 0x2487:
            return code - 0x2473
        if 0x2488 <= code <= 0x249B:
            return code - 0x2487
        if 0x2460 <= code <= 0x2473:
            return code - 0x245F
        if 0x3251 <= code <= 0x325F:
            return code - 0x3251 + 21
        if 0x32B1 <= code <= 0x32BF:
            return code - 0x32B1 + 36
        if raw.isascii() and raw.isalpha():
            return ord(raw.upper()) - ord("A") + 1
    return chinese_numeral(raw)


def _canonical_number(style: str, raw: str, suffix: str, ordinal: int) -> str:
    """One spelling per style: （一） for (一), （1） for ⑴ and (1), 1 for 1． and ⒈ …"""
    if style == "paren_cn":
        return f"（{raw}）"
    if style == "paren_arabic":
        return f"（{ordinal}）"
    if style == "arabic":
        return f"{ordinal}"
    if style == "arabic_paren":
        return f"{ordinal}）"
    if style in ("chapter", "subchapter", "article"):
        return f"第{raw}{suffix}"
    return raw


def _display_label(style: str, number: str) -> str:
    if style == "cn":
        return number + "、"
    if style in ("arabic", "latin"):
        return number + "."
    if style in ("chapter", "subchapter", "article"):
        return number + " "
    if style == "annex":
        return ""
    return number


def _match_label(par: str) -> tuple[str, str, int, str] | None:
    """(style, canonical number, ordinal, rest) when ``par`` starts with a numbering label."""
    for style, pattern in _LABELS:
        m = pattern.match(par)
        if not m:
            continue
        raw = m.group(1)
        suffix = (
            m.group(2)
            if style == "chapter"
            else {"subchapter": "节", "article": "条"}.get(style, "")
        )
        ordinal = _ordinal(style, raw)
        if ordinal <= 0:
            continue
        rest = par[m.end() :]
        if not rest.strip() and style in ("cn", "arabic", "latin"):
            continue  # a lone "1." is not an item
        return style, _canonical_number(style, raw, suffix, ordinal), ordinal, rest
    return None


# --------------------------------------------------------------------------------------------
# Departments


def _strip(text: str) -> str:
    return text.strip(_SPACES)


def _looks_like_department(name: str, v: PlanVocabulary, g: _Grammar) -> bool:
    if not name or name.startswith(v.not_department_prefixes):
        return False
    return plausible_department(name, v.department_suffixes, g.admin_bare)


def _is_qualified(name: str, v: PlanVocabulary, g: _Grammar) -> bool:
    for prefix in v.qualified_prefixes:
        if name.startswith(prefix):
            # 市场监管局 does not start with the level 市: the distributable pattern decides
            if (
                len(prefix) == 1
                and re.match(rf"^{re.escape(prefix)}", name)
                and (g.distributable.match(prefix + "x") and not g.distributable.match(name))
            ):
                continue
            return True
    return "省" in name or any(p in name for p in v.place_names) or name.endswith(v.keep_suffixes)


def _clean_name(name: str) -> str:
    name = "".join(ch for ch in name if ch not in _SPACES)
    name = re.sub(r"^(?:由|请|会同|分别由|并由)", "", name)
    name = re.sub(r"(?:等(?:单位|部门|有关部门|相关部门)?|分别)$", "", name)
    return name


_OPEN = "（(〔【["
_CLOSE = "）)〕】]"


def _split_top(text: str, separators: str) -> list[str]:
    """Split at ``separators`` outside brackets: 各县（市、区）人民政府 stays one name."""
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(depth - 1, 0)
        elif ch in separators and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _split_names(chunk: str, v: PlanVocabulary, g: _Grammar) -> list[str]:
    """Split a ``、`` list, join 州、市人民政府, distribute the first name's prefix."""
    parts = [p for p in (_clean_name(p) for p in _split_top(chunk, "、/")) if p]
    merged: list[str] = []
    pending: list[str] = []
    for part in parts:
        bare = g.admin_bare.match(part) is not None and not part.endswith("政府")
        if bare:
            pending.append(part)
            continue
        if pending:
            plain = re.sub(r"[（(][^（）()]*[）)]$", "", part)
            if g.admin_bare.match(plain) or plain.endswith(("人民政府", "政府")):
                merged.append("、".join([*pending, part]))
            else:
                merged.extend(pending)
                merged.append(part)
            pending = []
        else:
            merged.append(part)
    merged.extend(pending)
    if len(merged) > 1:
        m = g.distributable.match(merged[0])
        if m and m.group(0) and not g.admin_bare.match(merged[0]):
            prefix = m.group(0)
            merged = [merged[0]] + [
                n if _is_qualified(n, v, g) or g.admin_bare.match(n) else prefix + n
                for n in merged[1:]
            ]
    return merged


def _role_groups(inner: str, g: _Grammar) -> list[tuple[Role | None, str]]:
    """Split an attribution clause into (role from a label or None, chunk of names)."""
    text = inner.replace(";", "；").replace(",", "，")
    segments: list[tuple[Role | None, str]] = []
    last_end = 0
    last_role: Role | None = None
    for m in g.label.finditer(text):
        before = text[last_end : m.start()]
        if _strip(before.strip("，；")):
            segments.append((last_role, before))
        last_role = g.role_of_label[m.group(1)]
        last_end = m.end()
    segments.append((last_role, text[last_end:]))
    out: list[tuple[Role | None, str]] = []
    for role, segment in segments:
        for chunk in _split_top(segment, "，；。"):
            chunk = _strip(chunk).strip("。.")
            if chunk:
                out.append((role, chunk))
    return out


def _clause_sentences(inner: str, v: PlanVocabulary) -> tuple[str, list[str]]:
    """(the part of a clause that names its task's departments, its carry-over sentences)."""
    sentences = [s for s in _split_top(inner, "。") if _strip(s)]
    own: list[str] = []
    carried: list[str] = []
    for sentence in sentences:
        if v.carry_over_markers and any(m in sentence for m in v.carry_over_markers):
            carried.append(sentence)
        elif own and any(p in sentence for p in v.lead_policy_all + v.lead_policy_first):
            continue  # 未明确牵头单位的，由所列负责单位按职责分工负责: a rule, not names
        else:
            own.append(sentence)
    if not own and carried:
        # 〔…负责落实，以下各项工作均需…落实，不再列出〕: the names before the marker are its own
        first = carried[0]
        cut = min((first.find(m) for m in v.carry_over_markers if m in first), default=-1)
        head = first[:cut] if cut > 0 else ""
        head = re.sub(r"[，,；;]?\s*(?:以下|具体任务)[^，,；;]*$", "", head)
        if head:
            own.append(head)
    return "。".join(own), carried


def _carried_names(sentences: Sequence[str], v: PlanVocabulary, g: _Grammar) -> list[str]:
    names: list[str] = []
    for sentence in sentences:
        for pattern in g.carry_over:
            m = pattern.search(sentence.replace(",", "，"))
            if m:
                names.extend(
                    n
                    for n in _split_names(m.group("names"), v, g)
                    if _looks_like_department(n, v, g)
                )
    return list(dict.fromkeys(names))


def _parse_attribution(
    inner: str,
    clause: str,
    *,
    labelled_only: bool,
    v: PlanVocabulary,
    g: _Grammar,
    rule: str,
    truncated: bool = False,
    prose: bool = False,
) -> Attribution | None:
    """The departments of an attribution clause, or None when it is not one."""
    inner, carried_sentences = _clause_sentences(inner, v)
    groups = _role_groups(inner, g)
    has_label = g.label.search(inner.replace(":", "：")) is not None
    if labelled_only and not has_label:
        return None
    named: list[tuple[str, Role | None]] = []
    has_role_word = has_label
    for label_role, chunk in groups:
        role: Role | None = label_role
        verb = g.verb_suffix.search(chunk)
        if verb:
            role = g.role_of_verb[verb.group(0)]
            chunk = chunk[: verb.start()]
            has_role_word = True
        joint = next((w for w in v.joint_words if w in chunk), None)
        pieces: list[tuple[str, Role | None]] = [(chunk, role)]
        if joint:
            left, right = chunk.split(joint, 1)
            if left.endswith("委员"):  # 委员会同… = 委员会 + 同…
                left += "会"
            pieces = [(left, "lead"), (right, "participating")]
            has_role_word = True
        for piece, piece_role in pieces:
            for name in _split_names(piece, v, g):
                name_role = piece_role
                marker = g.marker_suffix.search(name)
                if marker:
                    name_role = g.role_of_marker[marker.group(0)]
                    name = _clean_name(name[: marker.start()])
                    has_role_word = True
                if name:
                    named.append((name, name_role))
    if truncated and named and not clause.rstrip().endswith(tuple(_CLOSE)):
        last = named[-1][0]
        if len(last) < 3 or not _looks_like_department(last, v, g):
            named.pop()  # cut off by the end of the text: 市政府办公室、市
    if not named:
        return None
    names = [n for n, _ in named]
    department_like = [_looks_like_department(n, v, g) for n in names]
    if prose and not (has_role_word and all(department_like)):
        return None
    if has_role_word:
        if not any(department_like):
            return None
        named = [(n, r) for (n, r), ok in zip(named, department_like, strict=True) if ok]
        if not named:
            return None
    elif not all(department_like):
        return None
    explicit = [n for n, r in named if r == "lead"]
    if explicit:
        lead = explicit
    elif rule == "all":
        lead = [n for n, r in named if r != "participating"]
    else:
        first = next((n for n, r in named if r != "participating"), None)
        lead = [first] if first else []
    # names are kept as written; one body written two ways (省发改委, 省发展改革委) is one name
    seen: set[str] = set()

    def first_time(name: str) -> bool:
        canonical = v.departments.canonical(name)
        if canonical in seen:
            return False
        seen.add(canonical)
        return True

    lead = [n for n in lead if first_time(n)]
    participating = [n for n, _ in named if first_time(n)]
    carried = _carried_names(carried_sentences, v, g)
    participating.extend(n for n in carried if first_time(n))
    return Attribution(
        lead=tuple(lead),
        participating=tuple(participating),
        clause=clause,
        carried=tuple(carried),
    )


_UNBALANCED = object()


def _matching_open(s: str, end: int) -> int:
    """Index of the bracket that opens the one closing at ``end`` (-1: none)."""
    depth = 0
    for i in range(end, -1, -1):
        if s[i] in _CLOSE:
            depth += 1
        elif s[i] in _OPEN:
            depth -= 1
            if depth == 0:
                return i
    return -1


def _unclosed_open(s: str) -> int:
    """Index of the last bracket opened and never closed (-1: none)."""
    stack: list[int] = []
    for i, ch in enumerate(s):
        if ch in _OPEN:
            stack.append(i)
        elif ch in _CLOSE and stack:
            stack.pop()
    return stack[0] if stack else -1


def _trailing_attribution(
    par: str, *, v: PlanVocabulary, g: _Grammar, rule: str, last: bool = False
) -> tuple[Attribution, int] | object | None:
    """(attribution, start index of its clause in ``par``), _UNBALANCED, or None.

    ``last``: the paragraph ends the document, so a clause opened and not closed was cut off by
    the end of the text and is read as far as it goes.
    """
    s = par.rstrip(_SPACES + "。；;.，,")
    if s.endswith(tuple(_CLOSE)):
        start = _matching_open(s, len(s) - 1)
        if start < 0:
            return _UNBALANCED
        attribution = _parse_attribution(
            s[start + 1 : -1], s[start:], labelled_only=False, v=v, g=g, rule=rule
        )
        if attribution is not None:
            return attribution, start
    elif last:
        start = _unclosed_open(s)
        if start >= 0:
            attribution = _parse_attribution(
                s[start + 1 :], s[start:], labelled_only=False, v=v, g=g, rule=rule, truncated=True
            )
            if attribution is not None:
                return attribution, start
    # a closing sentence of names and a role verb: "…。省发展改革委会同省财政厅负责。"
    cut = s.rfind("。")
    last_sentence = s[cut + 1 :] if cut >= 0 else ""
    if 2 <= len(last_sentence) <= 60 and g.verb_suffix.search(last_sentence):
        attribution = _parse_attribution(
            last_sentence, last_sentence, labelled_only=False, v=v, g=g, rule=rule, prose=True
        )
        if attribution is not None:
            return attribution, cut + 1
    # unparenthesised, labelled: "…。牵头单位：A；配合单位：B"
    for m in g.label.finditer(s):
        begin = m.start()
        if begin > 0 and s[begin - 1] not in "。；;！!？?\u3000 \t":
            continue
        tail = s[begin:]
        if "。" in tail:
            continue
        attribution = _parse_attribution(tail, tail, labelled_only=True, v=v, g=g, rule=rule)
        if attribution is not None:
            return attribution, begin
        break
    return None


def _inner_attributions(
    par: str, *, v: PlanVocabulary, g: _Grammar, rule: str
) -> list[Attribution]:
    """Attribution clauses inside a paragraph (not at its end) that carry a role word:
    …目录。〔市生态环境局牵头，市发展和改革局参与〕按省的要求…"""
    out: list[Attribution] = []
    for i, ch in enumerate(par):
        if ch not in _CLOSE:
            continue
        start = _matching_open(par, i)
        if start < 0:
            continue
        inner = par[start + 1 : i]
        if not (g.label.search(inner) or any(w in inner for w, _ in v.role_verbs)):
            continue
        attribution = _parse_attribution(
            inner, par[start : i + 1], labelled_only=False, v=v, g=g, rule=rule
        )
        if attribution is not None:
            out.append(attribution)
    return out


def _merge(main: Attribution, others: Sequence[Attribution]) -> Attribution:
    lead = list(main.lead)
    participating = list(main.participating)
    carried = list(main.carried)
    for other in others:
        lead.extend(n for n in other.lead if n not in lead)
        carried.extend(n for n in other.carried if n not in carried)
    for other in others:
        participating.extend(n for n in other.participating if n not in participating)
    participating = [n for n in dict.fromkeys(participating) if n not in lead]
    return replace(
        main, lead=tuple(lead), participating=tuple(participating), carried=tuple(carried)
    )


# --------------------------------------------------------------------------------------------
# Targets

_MASK = re.compile(r"《[^《》]*》|〔[^〔〕]*〕|\[[^\[\]]*\]|【[^【】]*】")
_CLAUSE_DELIMS = "，,；;：:。！!？?\n"
_SENTENCE = re.compile(r"[^。！!？?\n]+")
_NEGATED = re.compile(r"达不到|未达到|未完成|不足|没有达到")
_BASELINE_PRE = {"比", "较", "与", "同", "自", "从"}
_BARE_BEFORE = re.compile(r"(?<![0-9A-Za-z.])(\d+(?:\.\d+)?)\s*(?:、|和|及|与)\s*$")
_BASELINE_POST = {"基础上", "的", "可比价", "水平", "同期", "起", "开始"}


def _deadlines(sentence: str, g: _Grammar) -> tuple[list[int], list[int]]:
    """Positions and years of the deadlines in a sentence (baselines such as 比2015年 skipped)."""
    found: list[tuple[int, int]] = []
    for m in g.year.finditer(sentence):
        pre, post = m.group("pre") or "", m.group("post") or ""
        if pre not in _BASELINE_PRE and post not in _BASELINE_POST:
            found.append((m.start(), int(m.group("y"))))
    for m in g.period.finditer(sentence):
        pre, post = m.group("pre") or "", m.group("post") or ""
        if pre not in _BASELINE_PRE and post != "基础上":
            found.append((m.start(), g.period_year[m.group("p")]))
    found.sort()
    return [pos for pos, _ in found], [year for _, year in found]


def _any_within(spans: Sequence[tuple[int, int]], starts: Sequence[int], lo: int, hi: int) -> bool:
    """Whether one of the (non-overlapping, sorted) spans lies within [lo, hi)."""
    i = bisect_left(starts, lo)
    return i < len(spans) and spans[i][1] <= hi


def find_targets(
    text: str, *, vocabulary: PlanVocabulary, default_year: int | None = None
) -> tuple[Target, ...]:
    """候选指标 — quantities in ``text`` that read as targets (rules in the module docstring)."""
    g = _grammar(vocabulary)
    norm = text.translate(_FULLWIDTH)
    norm = _MASK.sub(lambda m: "＿" * len(m.group(0)), norm)
    out: list[Target] = []
    for sm in _SENTENCE.finditer(norm):
        sentence = sm.group(0)
        quantities = list(g.quantity.finditer(sentence))
        if not quantities:
            continue
        delims = [i for i, ch in enumerate(sentence) if ch in _CLAUSE_DELIMS]
        deadline_at, deadline_year = _deadlines(sentence, g)
        verbs = [m.span() for m in g.verb.finditer(sentence)]
        verb_starts = [a for a, _ in verbs]
        negations = [m.span() for m in _NEGATED.finditer(sentence)]
        negation_starts = [a for a, _ in negations]
        for q in quantities:
            start, end = q.start(), q.end()
            k = bisect_left(delims, start)
            clause_start = delims[k - 1] + 1 if k else 0
            k = bisect_left(delims, end)
            clause_end = delims[k] if k < len(delims) else len(sentence)
            subject_words = g.subject_units.get(q.group("unit").lstrip("万亿千百"))
            if subject_words is not None and not any(
                w in sentence[clause_start:start] for w in subject_words
            ):
                continue  # 30天内完成: a deadline; 优良天数…达到220天 is a target
            after = sentence[end:clause_end]
            bound = g.bound.match(after)
            rest = after[bound.end() :] if bound else after
            before = sentence[max(clause_start, start - 16) : start]
            verb_right_before = g.verb_at_end.search(before) is not None or (
                before.endswith(("和", "、", "及"))
                and _any_within(verbs, verb_starts, clause_start, start)
            )  # 建成10个A和6个B: the verb governs the list
            if bound and rest.startswith("的"):
                continue  # threshold: 10蒸吨以上的锅炉
            if bound and rest and not re.match(r"^(?:左右)?$", rest) and not verb_right_before:
                continue  # threshold: 20万千瓦以上燃煤机组
            bounded = bound is not None and not re.sub(r"^左右", "", rest)
            if (
                q.group("unit").lstrip("万亿千百") in vocabulary.count_units
                and rest
                and not bounded
                and not verb_right_before
            ):
                continue  # a count that describes: 等6项工程, 和22个实施方案
            # a share that opens its subject: 100%的县级以上城市建成清新空气示范区
            share = (
                after.startswith("的")
                and q.group("unit") in vocabulary.percent_units
                and _any_within(verbs, verb_starts, end, clause_end)
            )
            if (
                not bounded
                and not share
                and not _any_within(verbs, verb_starts, clause_start, start)
            ):
                continue
            if before.endswith(("比", "较", "的")) and not verb_right_before:
                continue  # baseline: 比2010年的56.4万吨
            if _any_within(negations, negation_starts, clause_start, start):
                continue  # condition: 实际处理水量达不到设计能力60%
            clause_text = _strip(text[sm.start() + clause_start : sm.start() + clause_end])
            k = bisect_left(deadline_at, start)
            year = deadline_year[k - 1] if k else None
            explicit = year is not None
            if year is None:
                year = None if "每年" in clause_text else default_year
            try:
                value = Decimal(q.group("a"))
                value_max = Decimal(q.group("b")) if q.group("b") else None
            except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
                continue
            unit = text[sm.start() + q.start("unit") : sm.start() + q.end("unit")]
            # bare numbers listed right before it share its unit: 分别不高于53和32微克/立方米
            shared: list[Decimal] = []
            head = sentence[clause_start:start]
            while (bare := _BARE_BEFORE.search(head)) is not None:
                shared.insert(0, Decimal(bare.group(1)))
                head = head[: bare.start()]
            out.extend(
                Target(
                    value=number,
                    unit=unit.replace("％", "%"),
                    year=year,
                    year_explicit=explicit,
                    text=clause_text,
                )
                for number in shared
            )
            out.append(
                Target(
                    value=value,
                    value_max=value_max,
                    unit=unit.replace("％", "%"),
                    year=year,
                    year_explicit=explicit,
                    text=clause_text,
                )
            )
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Document level


def _paragraphs(source: str | Sequence[str]) -> list[str]:
    if isinstance(source, str):
        return source.splitlines()
    if not isinstance(source, Sequence) or not all(isinstance(p, str) for p in source):
        raise PlanParseError("a plan is parsed from its text or a list of paragraph strings")
    out: list[str] = []
    for p in source:
        out.extend(p.splitlines() or [""])
    return out


_PLAN_KINDS = ("方案", "规划", "计划", "意见", "纲要", "办法", "分工", "措施", "实施细则")


def _plan_title(preamble: Sequence[str]) -> str | None:
    candidates = [
        p
        for p in preamble
        if len(p) <= 80
        and any(k in p for k in _PLAN_KINDS)
        and not p.endswith(("。", "：", ":", "；"))
        and not p.startswith(("（", "(", "《"))
        and not re.search(r"〔\d{4}〕\d+号$", p)
    ]
    if not candidates:
        return None
    plain = [p for p in candidates if not p.startswith("关于") and "通知" not in p]
    return (plain or candidates)[-1]


def _target_year(title: str | None, preamble: Sequence[str], body: str, g: _Grammar) -> int | None:
    """The last year of the plan's period: from its title (2017—2020年, “十三五”), else the
    five-year plan the text names most often, else the most frequent 到YYYY年."""
    for text in (title or "", *preamble[:3]):
        m = re.search(r"((?:19|20)\d{2})\s*年?\s*[-－—–~～至到]+\s*((?:19|20)\d{2})", text)
        if m:
            return int(m.group(2))
        p = g.period.search(text)
        if p:
            return g.period_year[p.group("p")]
    annual = g.annual.search(title) if g.annual is not None and title else None
    if annual:  # 某市2019年大气污染防治行动计划: the year it plans for
        return int(annual.group(1))
    periods = [g.period_year[m.group("p")] for m in g.period.finditer(body)]
    if periods:
        return max(sorted(set(periods)), key=periods.count)
    years = [int(y) for y in re.findall(r"到\s*((?:19|20)\d{2})\s*年", body)]
    if years:
        return max(sorted(set(years)), key=years.count)
    # a goal paragraph that opens with its year: "2020年，通过实施…"
    years = [int(y) for y in re.findall(r"(?:^|[。\n])\s*((?:19|20)\d{2})\s*年\s*[，,]", body)]
    if years:
        return max(sorted(set(years)), key=years.count)
    # the annual plans it implements (为贯彻落实《…2019年行动计划》…，制定本行动计划)
    if g.annual is not None:
        years = [int(y) for t in preamble[:3] for y in g.annual.findall(t)]
        if years:
            return max(sorted(set(years)), key=years.count)
    return None


@dataclass
class _Node:
    style: str
    number: str
    ordinal: int
    line: int
    paragraphs: list[str]
    children: list[_Node] = field(default_factory=list)


_DATE_LINE = re.compile(
    r"^(?:[^。，,；;：:]{2,30}?\s+)?[（(]?(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日[）)]?"
    r"\s*(?:印发|发布)?$"
)
_SIGNATURE = re.compile(r"^[^。，,；;：:]{2,30}(?:政府|办公厅|办公室|委员会|厅|局|委|办)$")


def _looks_like_plan_title(par: str) -> bool:
    """A line that names a document (…实施方案) rather than saying something: no sentence end."""
    return (
        len(par) <= 60
        and any(k in par for k in _PLAN_KINDS)
        and not re.search(r"[。；;：:，,！!？?]", par)
    )


def _build_tree(
    pars: Sequence[str], g: _Grammar, context_headings: Sequence[str] = ()
) -> tuple[list[str], list[_Node], int]:
    """(preamble paragraphs, top-level items, how many of them belong to a covering notice).

    A covering notice (印发通知: its preamble forwards the document, ``现将《…》印发给你们``) ends at
    its signature date.  When the text has no date (a web page that dropped it), the notice's
    items — at least two single paragraphs of one numbering style, no sub-items, none titled like
    a context part — end where the forwarded document begins: at its title line, or at the first item
    that would open a numbering of another style (or restart the same one at 1).
    """
    preamble: list[str] = []
    roots: list[_Node] = []
    stack: list[_Node] = []
    annexes = 0
    notice = 0  # top-level items of a covering notice (印发通知) closed by its signature date
    signed: int | None = None
    dated = False  # a signature date line has been read
    forwarding: bool | None = None  # the preamble forwards a document (decided at the 1st item)

    def undated_notice() -> bool:
        return bool(forwarding) and not dated and not notice and bool(roots)

    for index, raw in enumerate(pars, start=1):
        par = _strip(raw)
        if not par:
            continue
        if roots and g.closing.match(par):
            break  # 抄送： … closing matter
        if _DATE_LINE.match(par):
            # a signature date closes what precedes it (a notice's items, or the plan itself)
            if (
                stack
                and len(stack[-1].paragraphs) > 1
                and _SIGNATURE.match(stack[-1].paragraphs[-1])
            ):
                stack[-1].paragraphs.pop()
            stack = []
            signed = len(roots) if roots else None
            dated = True
            continue
        if roots and g.annex.match(par):
            annexes += 1
            node = _Node("annex", f"附件{annexes}", annexes, index, [par])
            roots.append(node)
            stack = [node]
            continue
        label = _match_label(par)
        if label is None:
            if stack and undated_notice() and _looks_like_plan_title(par):
                notice, stack = len(roots), []  # the forwarded document's title
                preamble.append(par)
            elif stack:
                stack[-1].paragraphs.append(par)
            else:
                preamble.append(par)
            continue
        style, number, ordinal, rest = label
        if forwarding is None:
            forwarding = g.notice is not None and any(g.notice.search(p) for p in preamble)
        node = _Node(style, number, ordinal, index, [_strip(rest)])
        depth = next((i for i, n in enumerate(stack) if n.style == style), None)
        if (
            undated_notice()
            and ordinal == 1
            and len(stack) == 1
            and len(roots) >= 2
            and depth in (None, 0)
            and all(not r.children and r.style == stack[0].style for r in roots)
            and not any(h in _title_of(r.paragraphs[0]) for r in roots for h in context_headings)
        ):
            notice, stack, depth = len(roots), [], None  # the forwarded document begins
        if depth is not None:
            del stack[depth:]
        if stack:
            stack[-1].children.append(node)
        else:
            if signed is not None:
                notice, signed = signed, None
            roots.append(node)
        stack.append(node)
    return preamble, roots, notice


def _title_of(first: str) -> str:
    first = _strip(first)
    cut = first.find("。")
    title = first[:cut] if cut >= 0 else first
    return title.rstrip("：:；;，, ")


def _freeze(
    node: _Node,
    section: tuple[str, ...],
    path: tuple[str, ...],
    *,
    v: PlanVocabulary,
    g: _Grammar,
    rule: str,
    default_year: int | None,
    last_node: _Node | None = None,
) -> PlanItem:
    pars = list(node.paragraphs)
    attribution: Attribution | None = None
    body = list(pars)
    ends_document = node is last_node
    for k in range(len(pars) - 1, -1, -1):
        found = _trailing_attribution(
            pars[k], v=v, g=g, rule=rule, last=ends_document and k == len(pars) - 1
        )
        if found is _UNBALANCED and k > 0:
            joined = pars[k - 1] + pars[k]
            found = _trailing_attribution(joined, v=v, g=g, rule=rule)
            if isinstance(found, tuple):
                attribution, start = found
                body = [*pars[: k - 1], joined[:start]]
                break
            continue
        if isinstance(found, tuple):
            attribution, start = found
            body = [*pars[:k], pars[k][:start], *pars[k + 1 :]]
            break
    inner = [a for b in body for a in _inner_attributions(b, v=v, g=g, rule=rule)]
    if inner:
        attribution = _merge(attribution, inner) if attribution else _merge(inner[0], inner[1:])
    title = _strip(pars[0]) if node.style == "annex" else _title_of(body[0] if body else "")
    body_text = "\n".join(p for p in (_strip(b) for b in body) if p)
    item_path = (*path, node.number)
    heading = _display_label(node.style, node.number) + title
    children = tuple(
        _freeze(
            c,
            (*section, heading),
            item_path,
            v=v,
            g=g,
            rule=rule,
            default_year=default_year,
            last_node=last_node,
        )
        for c in node.children
    )
    return PlanItem(
        number=node.number,
        ordinal=node.ordinal,
        style=node.style,
        title=title,
        text="\n".join(p for p in (_strip(p) for p in pars) if p),
        section=section,
        path=item_path,
        line=node.line,
        attribution=attribution,
        targets=find_targets(body_text, vocabulary=v, default_year=default_year),
        children=children,
    )


def _with_tasks(
    items: tuple[PlanItem, ...], notice: int = 0, context_headings: Sequence[str] = ()
) -> tuple[PlanItem, ...]:
    """Mark the tasks (rule in the module docstring) and fold details into their task.

    The first ``notice`` top-level items belong to a covering notice: context, never tasks;
    so are items titled like a context part (总体要求, 主要目标 …) that name no department.
    """

    def attributed(item: PlanItem) -> bool:
        return any(i.attribution is not None for i in item.walk())

    def context_heading(item: PlanItem) -> bool:
        return (
            len(item.title) <= 30
            and any(h in item.title for h in context_headings)
            and not attributed(item)
        )

    def context(item: PlanItem) -> PlanItem:
        return replace(item, children=tuple(context(c) for c in item.children), is_task=False)

    doc_attributed = any(attributed(i) for i in items[notice:])

    def mark(
        item: PlanItem, part: bool, in_annex: bool, under_task: bool, top: bool = False
    ) -> PlanItem:
        if context_heading(item):
            if not top:
                return context(item)
            # a top-level 总体要求 part: its sub-items are judged by their own titles
            children = tuple(mark(c, part, in_annex, under_task) for c in item.children)
            return replace(item, children=children, is_task=False)
        if doc_attributed:
            own = item.attribution is not None
            is_task = own or (not item.children and part and not under_task)
        else:
            is_task = not item.children and not in_annex
        children = tuple(
            mark(c, part, in_annex, under_task or item.attribution is not None)
            for c in item.children
        )
        if is_task and children:
            details = [c for c in children if not any(d.is_task for d in c.walk())]
            lines = [item.text] + [
                d.heading if not d.text else _display_label(d.style, d.number) + d.text
                for c in details
                for d in c.walk()
            ]
            targets = item.targets + tuple(t for c in details for d in c.walk() for t in d.targets)
            return replace(
                item,
                children=children,
                is_task=True,
                text="\n".join(line for line in lines if line),
                targets=targets,
            )
        return replace(item, children=children, is_task=is_task)

    out = []
    for index, top in enumerate(items):
        if index < notice:
            out.append(context(top))
            continue
        part = attributed(top) if (top.children or top.style == "annex") else doc_attributed
        out.append(mark(top, part, top.style == "annex", False, top=True))
    return tuple(out)


def _carry_over(items: tuple[PlanItem, ...]) -> tuple[PlanItem, ...]:
    """Add the parties a 下同 / 以下均需… sentence carries over to every later task."""
    carried: list[str] = []

    def visit(item: PlanItem) -> PlanItem:
        attribution = item.attribution
        if attribution is not None:
            carried.extend(n for n in attribution.carried if n not in carried)
        if item.is_task and carried:
            if attribution is None:
                attribution = Attribution(lead=(), participating=tuple(carried), clause="")
            else:
                extra = [
                    n
                    for n in carried
                    if n not in attribution.lead and n not in attribution.participating
                ]
                attribution = replace(
                    attribution, participating=attribution.participating + tuple(extra)
                )
        children = tuple(visit(c) for c in item.children)
        return replace(item, attribution=attribution, children=children)

    return tuple(visit(i) for i in items)


def _last_node(roots: Sequence[_Node]) -> _Node | None:
    node = roots[-1] if roots else None
    while node is not None and node.children:
        node = node.children[-1]
    return node


def parse_plan(
    source: str | Sequence[str],
    *,
    vocabulary: PlanVocabulary,
    target_year: int | None = None,
) -> Plan:
    """Parse a plan document's text (or paragraphs) into its numbered items and tasks.

    ``target_year`` overrides the year given to targets whose sentence names none (default:
    the last year of the plan's period, read from its title or first five-year-plan mention).
    Never raises anything but :class:`PlanParseError`.
    """
    if not isinstance(vocabulary, PlanVocabulary):
        raise PlanParseError("parse_plan needs a PlanVocabulary")
    g = _grammar(vocabulary)
    pars = _paragraphs(source)
    pars = normalise_text("\n".join(pars), traditional=g.traditional).split("\n")
    preamble, roots, notice = _build_tree(pars, g, vocabulary.context_headings)
    whole = "\n".join(pars)
    rule: Literal["first", "all"] = "first"
    if any(p in whole for p in vocabulary.lead_policy_all) and not any(
        p in whole for p in vocabulary.lead_policy_first
    ):
        rule = "all"
    title = _plan_title(preamble)
    year = target_year if target_year is not None else _target_year(title, preamble, whole, g)
    last = _last_node(roots)
    items = tuple(
        _freeze(r, (), (), v=vocabulary, g=g, rule=rule, default_year=year, last_node=last)
        for r in roots
    )
    return Plan(
        title=title,
        target_year=year,
        lead_rule=rule,
        items=_carry_over(_with_tasks(items, notice, vocabulary.context_headings)),
        vocabulary_version=vocabulary.version,
    )
