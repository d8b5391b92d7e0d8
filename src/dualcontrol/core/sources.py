"""What an officer is shown as the source (依据) of a rule, a value or a consequence.

The reference data keeps the full provenance of every value: the original document, the page or
clause, a quotation, the file of the project's research notes it was checked against, and the
web address of the copy that was read (often a document-sharing site).  Officers see only the
official part of it: the titles and document numbers of the official documents and standards
cited, with the quotation, and — where no official source was found — the label "平台规则，未找到
官方来源".  Research paths, addresses outside official government sites and English working notes
are never shown.

Pure: the table of known documents (research file → official title and number) and the official
host suffixes are passed in (``reference/data/source_titles.yaml``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PLATFORM_RULE = "平台规则，未找到官方来源"
PARTLY_PLATFORM_RULE = "部分取值为平台规则，未找到官方来源"


@dataclass(frozen=True)
class KnownDocument:
    """A research file of the project (``match``, a path or file name as cited in the data) and
    the official document it holds."""

    match: str
    title: str
    number: str = ""

    def citation(self) -> str:
        title = self.title if self.title.startswith("《") else f"《{self.title}》"
        return f"{title}（{self.number}）" if self.number else title


@dataclass(frozen=True)
class Citation:
    documents: tuple[str, ...]
    quote: str
    platform_rule: bool

    def text(self) -> str:
        """One line: documents, then the quotation, then the platform-rule label where due."""
        parts: list[str] = []
        if self.documents:
            parts.append("；".join(self.documents))
        if self.quote:
            parts.append(f"“{self.quote}”")
        if not parts:
            return PLATFORM_RULE
        out = "：".join(parts)
        if self.platform_rule:
            out += f"（{PARTLY_PLATFORM_RULE}）"
        return out


CJK = "\u3400-\u9fff"
# 国发〔2007〕36号, 发改环资〔2021〕1310号, 青政〔2017〕53号, 国家发展改革委令2023年第2号
DOC_NUMBER = re.compile(
    rf"[{CJK}]{{1,8}}\s?[〔\[［(（]\d{{4}}[〕\]］)）]\s*\d+\s*号|[{CJK}]{{2,12}}令\s*\d{{4}}年第\d+号|"
    rf"[{CJK}]{{2,12}}令第\d+号"
)
STANDARD = re.compile(
    r"(?<![A-Za-z])(?:GB/T|GB/Z|GB|HJ|DL/T|DB\d{2}(?:/T)?|JJF|JJG)\s?\d+(?:\.\d+)*-\d{4}"
)
TITLE = re.compile(r"《[^《》]{2,80}》")
QUOTES = (re.compile(r'"([^"]+)"'), re.compile(r"“([^“”]+)”"))
URL = re.compile(r"https?://[^\s)）\]，。；;、\"“”]+")
NOT_FOUND = re.compile(
    r"NOT FOUND|platform rule|平台规则|未找到官方来源|不是官方|非官方|illustrative", re.I
)
MAX_QUOTE = 160


def official_hosts_only(text: str, official_suffixes: Sequence[str]) -> list[str]:
    """The web addresses of ``text`` on an official host (``*.gov.cn`` and the like)."""
    out = []
    for url in URL.findall(text):
        host = re.sub(r"^https?://", "", url).split("/", 1)[0].split(":", 1)[0].lower()
        if any(host == s.lstrip(".") or host.endswith(s) for s in official_suffixes):
            out.append(url)
    return out


def cite(text: str | None, documents: Iterable[KnownDocument]) -> Citation:
    """The official part of a provenance text (see the module docstring)."""
    raw = (text or "").strip()
    if not raw:
        return Citation((), "", True)
    found: list[str] = []

    def add(item: str) -> None:
        item = re.sub(r"\s+", "", item) if "〔" in item or "号" in item else item.strip()
        if item and not any(item in f for f in found):
            found.append(item)

    numbers_cited: set[str] = set()
    compact = re.sub(r"\s+", "", raw)  # a path folded over two lines of the data file
    for doc in documents:
        if doc.match in compact or (doc.number and doc.number in raw):
            add(doc.citation())
            if doc.number:
                numbers_cited.add(doc.number)
    numbers = [(m.start(), m.end(), _number(m.group(0))) for m in DOC_NUMBER.finditer(raw)]
    for m in TITLE.finditer(raw):
        # a number printed right after the title (in brackets) or right before it belongs to it
        after = [n for n in numbers if 0 <= n[0] - m.end() <= 2]
        before = [n for n in numbers if 0 <= m.start() - n[1] <= 1]
        pairs = after or before
        if pairs:
            pair = pairs[0]
            numbers_cited.add(pair[2])
            add(f"{m.group(0)}（{pair[2]}）")
        else:
            add(m.group(0))
    for _start, _end, number in numbers:
        if number not in numbers_cited:
            add(number)
    for m in STANDARD.finditer(raw):
        add(m.group(0))
    quote = _quote(URL.sub("", raw))
    platform = bool(NOT_FOUND.search(raw)) or not (found or quote)
    return Citation(tuple(found), quote, platform)


def _number(text: str) -> str:
    out = re.sub(r"\s+", "", text)
    for a, b in (("[", "〔"), ("]", "〕"), ("［", "〔"), ("］", "〕"), ("(", "〔"), (")", "〕")):
        out = out.replace(a, b)
    return out.replace("（", "〔").replace("）", "〕")


def _quote(text: str) -> str:
    """The first quotation of the text written mostly in Chinese (an English working note in
    quotation marks is not a quotation of an official document)."""
    found = sorted(
        (m.start(), m.group(1).strip()) for pattern in QUOTES for m in pattern.finditer(text)
    )
    for _start, candidate in found:
        letters = [c for c in candidate if c.isalpha()]
        cjk = sum(1 for c in letters if "\u3400" <= c <= "\u9fff")
        if len(candidate) >= 6 and letters and cjk / len(letters) > 0.5:
            # a line break of the data file inside Chinese text is not a space
            candidate = re.sub(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])", "", candidate)
            if len(candidate) <= MAX_QUOTE:
                return candidate
            return candidate[: MAX_QUOTE - 1] + "…"
    return ""


RESEARCH_PATH = re.compile(
    r"(?:shared/)?(?:plans|reference)/[\w./…-]*|\b\d{2}_[a-z0-9_]+\.(?:md|csv)\b(?:\s*(?:§\s*[\d.]+|P\d+|\[\d+\]))?"
)


def scrub(text: str, documents: Iterable[KnownDocument], official_suffixes: Sequence[str]) -> str:
    """A provenance text (formulas, factors and their sources) fit to show in full: research paths
    become the official title where known and disappear otherwise, addresses outside official
    hosts are removed, "NOT FOUND" reads "未找到官方来源".  Everything else — the formula, the
    factor, the document titles and numbers — stays as recorded."""
    out = text
    compact_docs = sorted(documents, key=lambda d: len(d.match), reverse=True)
    for doc in compact_docs:
        if doc.match in out:
            out = out.replace(doc.match, doc.citation())
    official = set(official_hosts_only(out, official_suffixes))
    out = URL.sub(lambda m: m.group(0) if m.group(0) in official else "", out)
    out = RESEARCH_PATH.sub("", out)
    out = re.sub(r"NOT FOUND", "未找到官方来源", out)
    out = re.sub(r"\(\s*\)|（\s*）|\[\s*\]", "", out)
    out = re.sub(r"\s+and\s*(?=[;；,，)）]|$)", "", out)
    return re.sub(r"[ \t]{2,}", " ", out).strip()
