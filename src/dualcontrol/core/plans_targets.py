"""Quantitative targets of a plan → proposed platform targets (indicator, value, unit, year …).

:func:`extract_targets` reads every quantitative target of a plan's text, task or not (the 主要目标
part included), with the sentence it came from, and proposes its indicator catalogue code:

* the candidates are the parser's (:func:`dualcontrol.core.plans.find_targets`: a target word
  before the quantity or a bound after it; thresholds and baselines excluded);
* **indicator**: the vocabulary's ``target_indicators`` rules over the target's *subject* — the
  words before the value in its clause.  In a ``分别`` list (``化学需氧量、氨氮…重点工程减排量分别
  达到7.19万吨、0.28万吨…``) the n-th value takes the n-th subject; a ``均`` list (``二氧化硫、氮氧化物
  排放总量均比2015年下降22%``) gives one target per subject;
* **base year**: ``比2020年`` / ``较2015年`` before the value; **region**: ``全省`` / ``全市`` … before it;
  **sector**: the words ending in ``行业`` / ``领域`` / ``产业`` that open its clause;
* **peak year**: ``2030年前实现碳达峰`` → ``co2_peak_year`` 2030.

Every target is a proposal for an officer to confirm (accept, edit, reject); nothing here decides.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from dualcontrol.core.plans import (
    IndicatorRule,
    PlanVocabulary,
    Target,
    _grammar,
    _split_top,
    find_targets,
)
from dualcontrol.core.plans_text import normalise_text

_SENTENCE = re.compile(r"[^。！!？?\n]+[。！!？?]?")
_MASK = re.compile(r"《[^《》]*》")
_BASE_YEAR = re.compile(r"(?:比|较|与|同|相比)\s*((?:19|20)\d{2})\s*年")
_CLAUSE_DELIMS = "，,；;：:"
_EACH = re.compile(r"(?<![年平人月日])均(?![值匀衡])")  # 均比2015年下降, not 年均浓度 / 平均


def _indicator(
    rules: Sequence[IndicatorRule], primary: str, secondary: str, unit: str
) -> str | None:
    """The first rule whose first word group is in ``primary`` and the others in either."""
    both = primary + "|" + secondary
    for rule in rules:
        first, *rest = rule.groups
        if any(w in primary for w in first) and IndicatorRule(
            rule.code, tuple(rest) or (("",),), rule.units
        ).matches(both, unit):
            return rule.code
    return None


def _list_items(subject: str) -> list[str]:
    """The items of a 、 / 和 list (outside brackets): 二氧化硫(SO2)、氮氧化物(NOX)和挥发性有机物."""
    items = [i for i in _split_top(subject, "、和及") if i.strip()]
    return items


def _subject_before(sentence: str, position: int) -> str:
    """The clause text before ``position`` (the words a value is about)."""
    start = max((sentence.rfind(d, 0, position) for d in _CLAUSE_DELIMS), default=-1) + 1
    return sentence[start:position]


def _sector(subject: str, suffixes: Sequence[str]) -> str | None:
    if not suffixes:
        return None
    alternation = "|".join(re.escape(s) for s in suffixes)
    m = re.match(rf"^(?:到\d{{4}}年)?([^，,；;。]{{1,30}}?(?:{alternation}))", subject)
    return m.group(1) if m else None


def _region(text: str, regions: Sequence[str]) -> str | None:
    found = [(text.find(r), r) for r in regions if r in text]
    return min(found)[1] if found else None


def _quantity_at(sentence: str, target: Target, start: int) -> int:
    """Position of a target's value in ``sentence`` at or after ``start`` (-1: not found)."""
    value = format(target.value, "f")
    pattern = re.compile(rf"(?<![0-9.]){re.escape(value)}(?:\.0+)?(?![0-9])\s*[-—–~～至]?")
    m = pattern.search(sentence, start)
    if m is None and "." in value:
        m = re.compile(rf"(?<![0-9.]){re.escape(value.rstrip('0').rstrip('.'))}").search(
            sentence, start
        )
    return m.start() if m else -1


def _peak_targets(sentence: str, v: PlanVocabulary) -> list[Target]:
    out: list[Target] = []
    if not v.peak_words:
        return out
    words = "|".join(re.escape(w) for w in sorted(v.peak_words, key=len, reverse=True))
    for m in re.finditer(
        rf"((?:19|20)\d{{2}})\s*年(?:前|以前|之前|左右|底前)?[^，,；;。]{{0,16}}?(?:{words})",
        sentence,
    ):
        year = int(m.group(1))
        if re.search(r"(?:比|较)\s*$", sentence[: m.start()]):
            continue
        begin = max((sentence.rfind(d, 0, m.start()) for d in _CLAUSE_DELIMS), default=-1) + 1
        ends = [i for i in (sentence.find(d, m.end()) for d in _CLAUSE_DELIMS + "。") if i >= 0]
        clause = sentence[begin : min(ends) if ends else len(sentence)]
        out.append(
            Target(
                value=Decimal(year),
                unit="年",
                year=year,
                text=clause.strip(),
                indicator="co2_peak_year",
                sentence=sentence.strip(),
                region=_region(sentence[: m.start()], v.target_regions),
                sector=_sector(clause, v.target_sector_suffixes),
            )
        )
    return out


def extract_targets(
    text: str, *, vocabulary: PlanVocabulary, default_year: int | None = None
) -> list[Target]:
    """Every quantitative target of ``text`` with indicator, base year, region, sector, sentence."""
    g = _grammar(vocabulary)
    clean = normalise_text(text, traditional=g.traditional)
    out: list[Target] = []
    for sm in _SENTENCE.finditer(clean):
        sentence = sm.group(0)
        masked = _MASK.sub(lambda m: "＿" * len(m.group(0)), sentence)
        found = list(find_targets(sentence, vocabulary=vocabulary, default_year=default_year))
        cursor = 0
        positioned: list[tuple[int, Target]] = []
        for target in found:
            at = _quantity_at(masked, target, cursor)
            if at < 0:
                at = cursor
            positioned.append((at, target))
            cursor = at + 1
        # 分别 lists: the n-th value of a clause takes the n-th item of the list before 分别
        by_clause: dict[int, list[int]] = {}
        for index, (at, _) in enumerate(positioned):
            start = max((masked.rfind(d, 0, at) for d in _CLAUSE_DELIMS), default=-1) + 1
            by_clause.setdefault(start, []).append(index)
        for clause_start, indexes in by_clause.items():
            first_at = positioned[indexes[0]][0]
            subject = masked[clause_start:first_at]
            respectively = subject.rfind("分别")
            items = _list_items(subject[:respectively]) if respectively > 0 else []
            for n, index in enumerate(indexes):
                at, target = positioned[index]
                own_subject = _subject_before(masked, at)
                primary = own_subject
                if items and len(items) == len(indexes):
                    primary = items[n]
                base = _BASE_YEAR.findall(masked[clause_start:at])
                proposal = replace(
                    target,
                    indicator=_indicator(
                        vocabulary.target_indicators, primary, subject, target.unit
                    ),
                    base_year=int(base[-1]) if base else None,
                    region=_region(own_subject, vocabulary.target_regions)
                    or _region(
                        re.split(r"[，,；;]", masked[:at], maxsplit=1)[0], vocabulary.target_regions
                    ),
                    sector=_sector(subject, vocabulary.target_sector_suffixes),
                    sentence=sentence.strip(),
                )
                each = max((m.start() for m in _EACH.finditer(subject)), default=-1)
                list_items = _list_items(subject[:each]) if each > 0 and len(indexes) == 1 else []
                if len(list_items) >= 2:
                    for item in list_items:
                        out.append(
                            replace(
                                proposal,
                                indicator=_indicator(
                                    vocabulary.target_indicators, item, subject, target.unit
                                ),
                            )
                        )
                else:
                    if proposal.indicator is None and out and out[-1].sentence == proposal.sentence:
                        # 力争完成14.5%的激励目标: a clause without a subject of its own refers back
                        rest = re.sub(
                            r"力争|确保|完成|达到|实现|的|激励|目标|左右|以上", "", own_subject
                        )
                        if len(rest) < 3 and out[-1].unit == proposal.unit:
                            proposal = replace(proposal, indicator=out[-1].indicator)
                    out.append(proposal)
        out.extend(_peak_targets(masked, vocabulary))
    return out
