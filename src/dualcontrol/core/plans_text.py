"""Plan text normalisation — what a plan looks like after the web, Word, PDF or Markdown got at it.

:func:`normalise_text` turns the text of a plan as it arrives into the clean text the parser
(:mod:`dualcontrol.core.plans`) reads, one paragraph per line:

* **Characters.**  Full-width letters, digits and ``％`` become half-width (``２０２５`` → ``2025``);
  CJK compatibility ideographs and Kangxi radicals (PDF text layers) become the unified
  characters; private-use characters (icon fonts of government web pages), control and format
  characters (zero-width spaces, soft hyphens, BOM) are dropped; non-breaking, ideographic and
  other spaces become a plain space.  Chinese brackets and punctuation are kept as written.
* **Lost spaces.**  Runs of ``?`` that stand where a page's non-breaking spaces were lost in a
  wrong encoding (lines of ``?``, ``????? 某市人民政府``) are removed.
* **Pinyin annotations** of "phonetic" page variants (``創新(xīn)``) are removed.
* **Traditional characters** are mapped to simplified ones (the vocabulary's
  ``traditional_characters`` table), so that ``牽頭單位`` reads as ``牵头单位``.
* **Markup.**  HTML (tags, entities; block elements and ``<br>`` end paragraphs; table cells are
  separated by tabs, so a pasted 分工表 reaches the table reader) and Markdown (``#`` headings,
  ``**bold**``, ``> quotes``, list bullets, ``[links](…)``, ``| tables |``).
* **Hard-wrapped lines** (PDF and e-mail text: most long lines have the same length) are joined
  back into paragraphs; a line that starts with a numbering label or an indentation starts a new
  paragraph.

Pure functions, no I/O.  Rules as data where they are words (the vocabulary); the character
classes are Unicode's.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping

_FULLWIDTH_ALNUM = {
    **{0xFF10 + i: 0x30 + i for i in range(10)},
    **{0xFF21 + i: 0x41 + i for i in range(26)},
    **{0xFF41 + i: 0x61 + i for i in range(26)},
    0xFF05: 0x25,  # ％
    0xFF0E: 0x2E,  # ．  (only between digits, see below)
}
_SPACE_CHARS = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_DROP_FORMAT = {"Cf", "Co", "Cs", "Cn"}
_PINYIN = re.compile(
    r"(?<=[\u3400-\u9fff])\((?=[a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ])[a-zāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜńňǹḿ]{1,7}\)"
)
_HTML_HINT = re.compile(
    r"<\s*(?:p|div|br|span|table|tr|td|th|li|h[1-6]|html|body|font|strong|b)\b[^>]*>", re.I
)
_HTML_BLOCK = re.compile(
    r"<\s*/?\s*(?:p|div|br|li|ul|ol|h[1-6]|tr|table|tbody|thead|section|article|blockquote|pre|hr)\b[^>]*>",
    re.I,
)
_HTML_CELL = re.compile(r"<\s*/\s*t[dh]\s*>", re.I)
_HTML_DROP = re.compile(r"<(script|style|head|title)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_HTML_TAG = re.compile(r"<[^<>]+>")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*")
_MD_QUOTE = re.compile(r"^\s{0,3}(?:>\s?)+")
_MD_BULLET = re.compile(r"^\s{0,3}[-*+]\s+(?=\S)")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_MD_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![*\w])")
_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_MD_RULE = re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$")
_MD_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_LOST_SPACES = re.compile(r"(?:^|(?<=\s))\?+(?=\s|$|[^\x00-\x7f])")
_LABEL_START = re.compile(
    r"^(?:[一二三四五六七八九十]+[、．.]|[（(]\s*[一二三四五六七八九十0-9]+\s*[）)]|[0-9]{1,3}\s*[.．、]"
    r"|[\u2460-\u249b]|第[一二三四五六七八九十0-9]+[章节条部])"
)
_END_OF_PARAGRAPH = "。！？!?；;：:”』」）)"


def is_html(text: str) -> bool:
    """Whether ``text`` is an HTML page or fragment (a few block tags)."""
    return len(_HTML_HINT.findall(text[:20000])) >= 2


def html_to_text(text: str) -> str:
    """Text of an HTML page: block elements and ``<br>`` end lines, cells are tab-separated."""
    text = _HTML_COMMENT.sub("", text)
    text = _HTML_DROP.sub("", text)
    text = _HTML_CELL.sub("\t", text)
    text = _HTML_BLOCK.sub("\n", text)
    text = _HTML_TAG.sub("", text)
    return html.unescape(text)


def _markdown_line(line: str) -> str:
    if _MD_RULE.match(line):
        return ""
    if _MD_TABLE_SEP.match(line) and "-" in line:
        return ""
    stripped = line.strip()
    if stripped.startswith("|") and stripped.endswith("|") and stripped.count("|") >= 3:
        return "\t".join(c.strip() for c in stripped.strip("|").split("|"))
    line = _MD_HEADING.sub("", line)
    line = _MD_QUOTE.sub("", line)
    line = _MD_BULLET.sub("", line)
    line = _MD_LINK.sub(r"\1", line)
    line = _MD_EMPHASIS.sub(r"\2", line)
    line = _MD_EMPHASIS.sub(r"\2", line)
    line = _MD_ITALIC.sub(r"\1", line)
    return line.replace("`", "")


def _characters(text: str, traditional: Mapping[int, int] | None) -> str:
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if ch in "\n\t":
            out.append(ch)
            continue
        if code in _FULLWIDTH_ALNUM and code != 0xFF0E:
            out.append(chr(_FULLWIDTH_ALNUM[code]))
            continue
        if ch in _SPACE_CHARS:
            out.append(" ")
            continue
        if 0xF900 <= code <= 0xFAFF or 0x2F00 <= code <= 0x2FDF or 0x2E80 <= code <= 0x2EFF:
            ch = unicodedata.normalize("NFKC", ch)
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if category == "Cc" or category in _DROP_FORMAT:
            if ch == "\r":
                out.append("\n")
            continue
        if traditional is not None and code in traditional:
            out.append(chr(traditional[code]))
            continue
        out.append(ch)
    text = "".join(out)
    # a full-width full stop between digits is a decimal point: 14．5% → 14.5%
    return re.sub(r"(?<=[0-9])．(?=[0-9])", ".", text)


def _display_width(line: str) -> int:
    """Width of a line as laid out: a CJK (wide) character takes two columns, Latin one."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


_WRAP_SHARE = 0.4  # share of the long lines that must end near the wrap width
_WRAP_SLACK = 0.9  # a line at ≥ 90 % of the wrap width was wrapped (proportional PDF fonts)


def _unwrap(lines: list[str]) -> list[str]:
    """Join hard-wrapped lines: most long lines end near one width (the wrap width).

    Widths are display widths, so a PDF text layer whose lines mix Chinese, digits and Latin
    (``到2020 年``, ``PM2.5``) and whose proportional font ends lines a few columns apart still
    shows its wrap width; the wrap width is the largest width that at least 40 % of the long
    lines come within 10 % of.
    """
    widths = [_display_width(line) for line in lines if len(line.strip()) >= 15]
    if len(widths) < 8:
        return lines
    width = next(
        (
            w
            for w in sorted(set(widths), reverse=True)
            if sum(1 for n in widths if _WRAP_SLACK * w <= n <= w) >= _WRAP_SHARE * len(widths)
        ),
        0,
    )
    if width < 30:
        return lines
    out: list[str] = []
    joining = False
    for line in lines:
        starts_new = (
            not line.strip() or line[:1] in " \t" or _LABEL_START.match(line.strip()) is not None
        )
        if joining and not starts_new and out:
            out[-1] = out[-1] + line.strip()
        else:
            out.append(line)
        joining = _display_width(line) >= _WRAP_SLACK * width and not line.rstrip().endswith(
            ("。", "！", "？")
        )
        if not line.strip():
            joining = False
    return out


def traditional_table(pairs: str) -> dict[int, int]:
    """The ``str.translate`` table of a string of (traditional, simplified) character pairs."""
    if len(pairs) % 2:
        raise ValueError("traditional_characters must be pairs of characters")
    return {ord(pairs[i]): ord(pairs[i + 1]) for i in range(0, len(pairs), 2)}


def normalise_text(text: str, *, traditional: Mapping[int, int] | None = None) -> str:
    """Clean plan text, one paragraph per line (rules in the module docstring)."""
    if is_html(text):
        text = html_to_text(text)
    text = (
        text.replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\u2028", "\n")
        .replace("\u2029", "\n")
    )
    text = _characters(text, traditional)
    text = _PINYIN.sub("", text)
    lines = []
    for raw in text.split("\n"):
        line = _markdown_line(raw)
        if ("?" in line and re.search(r"[\u3400-\u9fff]", line)) or line.strip(" ?") == "":
            starts_lost = line.startswith("?")
            line = _LOST_SPACES.sub("", line)
            if starts_lost:
                line = line.lstrip(" ")
            if not line.strip(" ?"):
                line = ""
        lines.append(line.rstrip())
    return "\n".join(_unwrap(lines))
