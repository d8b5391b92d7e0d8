"""Plan documents as files: plain text (.txt) and Word (.docx) → paragraphs for the core parser.

* ``.txt`` (and any other extension): UTF-8 (with or without BOM), else GB18030 — the encodings
  government offices save in; one line is one paragraph, except that a run of tab-separated
  lines is read as a table (below).
* ``.docx`` (python-docx): body paragraphs and tables in document order.  Word's automatic
  numbering is not part of a paragraph's text, so it is rendered here from the numbering
  definitions (``一、`` / ``（一）`` / ``1.`` …: decimal, Chinese counting, circled, letters) and
  put in front of the text, as a reader sees it.  A table row becomes one paragraph; a table whose
  header names the roles (牵头单位 / 责任单位 / 参加单位 / 配合单位 …) has each row rewritten as
  ``（n）task（牵头单位：…；参加单位：…）`` so that the parser reads it like the prose form.
* ``.pdf`` (pypdf): the text layer, page by page; the hard-wrapped lines are joined back into
  paragraphs by the parser's normalisation.  A PDF without a text layer (a scanned image) is
  refused with :class:`PdfWithoutText` (run OCR or export the text first); an encrypted or damaged
  one with :class:`PlanDocumentError`.
* ``.doc`` / ``.wps`` are refused with a message (save as .docx or .txt first).

:func:`load_plan_vocabulary` reads ``reference/data/plans_vocabulary.yaml``;
:func:`read_plan` does both and parses.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dualcontrol.core.plans import Plan, PlanVocabulary, parse_plan

VOCABULARY_FILE = "plans_vocabulary.yaml"
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
MARKDOWN_SUFFIXES = (".md", ".markdown")
REFUSED = {
    ".doc": "old Word .doc files are not read: save the document as .docx or .txt",
    ".wps": "WPS .wps files are not read: save the document as .docx or .txt",
}
PDF_SUFFIXES = (".pdf",)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


class PlanDocumentError(ValueError):
    """The file cannot be read as a plan document (message meant for the operator)."""


class PdfWithoutText(PlanDocumentError):
    """A PDF whose pages carry no text layer (a scanned image): OCR it or export the text."""


def load_plan_vocabulary() -> PlanVocabulary:
    """The plan vocabulary from reference data, with its version stamp."""
    from dualcontrol.reference import load_yaml

    version, data = load_yaml(VOCABULARY_FILE)
    return PlanVocabulary.from_mapping(data, version=version)


def decode_text(raw: bytes) -> str:
    """Text of a plain-text plan: UTF-8 (BOM allowed), else GB18030."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise PlanDocumentError("the text is neither UTF-8 nor GB18030 (GBK)") from exc


def read_plan_paragraphs(path: str | Path) -> list[str]:
    """The paragraphs of a plan file (.txt, .md, .html, .docx or text-layer .pdf)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in REFUSED:
        raise PlanDocumentError(f"{path.name}: {REFUSED[suffix]}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PlanDocumentError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if suffix == ".docx" or raw[:2] == b"PK":
        return docx_paragraphs(path)
    if suffix in PDF_SUFFIXES or raw[:5] == b"%PDF-":
        return pdf_paragraphs(path)
    if suffix in HTML_SUFFIXES:
        from dualcontrol.core.plans_text import html_to_text

        return text_paragraphs(html_to_text(decode_text(raw)))
    if suffix in MARKDOWN_SUFFIXES:
        from dualcontrol.core.plans_text import normalise_text

        return text_paragraphs(normalise_text(decode_text(raw)))
    return text_paragraphs(decode_text(raw))


def text_paragraphs(text: str) -> list[str]:
    """Lines of a text file; runs of tab-separated lines (a table pasted as text) go through
    :func:`table_paragraphs`, so a 分工表 exported to .txt reads like the .docx table."""
    out: list[str] = []
    run: list[str] = []
    for line in [*text.splitlines(), ""]:
        if len([c for c in line.split("\t") if c.strip()]) >= 3:
            run.append(line)
            continue
        if len(run) > 1:
            out.extend(table_paragraphs([[c.strip() for c in r.split("\t")] for r in run]))
        else:
            out.extend(run)
        run = []
        out.append(line)
    return out[:-1]


def read_plan(path: str | Path, *, target_year: int | None = None) -> Plan:
    """Read and parse a plan file."""
    return parse_plan(
        read_plan_paragraphs(path), vocabulary=load_plan_vocabulary(), target_year=target_year
    )


# --------------------------------------------------------------------------------------------
# .pdf


def pdf_paragraphs(path: str | Path) -> list[str]:
    """Lines of a PDF's text layer, page after page (the parser joins hard-wrapped lines)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    name = Path(path).name
    # pypdf logs what it repairs (a missing EOF marker …): the outcome is reported here instead
    log = logging.getLogger("pypdf")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise PlanDocumentError(f"{name}: the PDF is encrypted: save it without a password")
        pages = [page.extract_text() or "" for page in reader.pages]
    except PlanDocumentError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise PlanDocumentError(f"{name}: not a readable PDF ({exc})") from exc
    except Exception as exc:  # pypdf raises assorted errors on damaged files
        raise PlanDocumentError(f"{name}: not a readable PDF ({exc})") from exc
    finally:
        log.setLevel(level)
    text = "\n".join(pages)
    if not text.strip():
        raise PdfWithoutText(
            f"{name}: the PDF has no text layer (a scanned image): "
            "run text recognition (OCR) or export the text (.txt) first"
        )
    return text_paragraphs(text)


# --------------------------------------------------------------------------------------------
# .docx


def docx_paragraphs(path: str | Path) -> list[str]:
    """Paragraphs of a .docx in body order, with Word's automatic numbering rendered."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise PlanDocumentError(f"{Path(path).name}: not a readable .docx file ({exc})") from exc
    except Exception as exc:  # zipfile.BadZipFile, lxml errors: a damaged or foreign file
        raise PlanDocumentError(f"{Path(path).name}: not a readable .docx file ({exc})") from exc
    numbering = _Numbering(document)
    out: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        if child.tag == f"{_W}p":
            text = "".join(t.text or "" for t in child.iter(f"{_W}t", f"{_W}tab"))
            label = numbering.label(child)
            if text.strip() or label:
                out.append(label + text)
        elif child.tag == f"{_W}tbl":
            out.extend(table_paragraphs(list(_rows(child))))
    return out


def _cell_text(tc: Any) -> str:
    paragraphs = ["".join(t.text or "" for t in p.iter(f"{_W}t")) for p in tc.iter(f"{_W}p")]
    return "".join(p.strip() for p in paragraphs if p.strip())


def _rows(tbl: Any) -> Iterator[list[str]]:
    """Cell texts per row, one per grid column; a vertically merged cell repeats its text."""
    previous: list[str] = []
    for tr in tbl.iterchildren(f"{_W}tr"):
        cells: list[str] = []
        for tc in tr.iterchildren(f"{_W}tc"):
            text = _cell_text(tc)
            merge = tc.find(f"{_W}tcPr/{_W}vMerge")
            column = len(cells)
            if merge is not None and merge.get(f"{_W}val") != "restart" and column < len(previous):
                text = previous[column]
            span = tc.find(f"{_W}tcPr/{_W}gridSpan")
            width = int(span.get(f"{_W}val", "1")) if span is not None else 1
            cells.extend([text] + [""] * (max(width, 1) - 1))
        previous = cells
        yield cells


_LEAD_HEADER = re.compile(r"牵头|主办|主责")
_PART_HEADER = re.compile(r"参加|参与|配合|协办|协助")
_RESP_HEADER = re.compile(r"责任(单位|部门)|负责(单位|部门)")
_TASK_HEADER = re.compile(r"任务|内容|措施|工作|事项|项目")
_NUMBER_HEADER = re.compile(r"序号|编号")


def table_paragraphs(rows: list[list[str]]) -> list[str]:
    """A table (header row first) as paragraphs; a 分工表 becomes ``（n）task（牵头单位：…）``."""
    if not rows:
        return []
    header = rows[0]

    def column(pattern: re.Pattern[str]) -> int | None:
        return next((i for i, h in enumerate(header) if pattern.search(h)), None)

    lead, part, resp = column(_LEAD_HEADER), column(_PART_HEADER), column(_RESP_HEADER)
    role_columns = {c for c in (lead, part, resp) if c is not None}
    task = next(
        (
            i
            for i, h in enumerate(header)
            if _TASK_HEADER.search(h) and i not in role_columns and not _NUMBER_HEADER.search(h)
        ),
        None,
    )
    if not role_columns or task is None:
        return ["　".join(c for c in row if c) for row in rows if any(row)]
    number = column(_NUMBER_HEADER)
    out: list[str] = []
    count = 0
    for row in rows[1:]:
        if not any(row):
            continue
        cells = row + [""] * (len(header) - len(row))
        text = cells[task].rstrip("。；; ")
        if not text:
            continue
        count += 1
        ordinal = count
        if (
            number is not None
            and cells[number].strip().isascii()
            and cells[number].strip().isdigit()
        ):
            ordinal = int(cells[number].strip())
        roles = []
        if lead is not None and cells[lead]:
            roles.append(f"牵头单位：{cells[lead]}")
        if resp is not None and cells[resp]:
            roles.append(f"责任单位：{cells[resp]}")
        if part is not None and cells[part]:
            roles.append(f"参加单位：{cells[part]}")
        clause = f"（{'；'.join(roles)}）" if roles else ""
        out.append(f"（{ordinal}）{text}。{clause}")
    return out


class _Numbering:
    """Renders Word list numbering (w:numPr on a paragraph or its style) as label text."""

    def __init__(self, document: Any) -> None:
        self.levels: dict[tuple[str, int], tuple[str, str, int]] = {}
        self.counters: dict[str, list[int]] = {}
        self.style_num: dict[str, tuple[str, int]] = {}
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
        for an in numbering.iter(f"{_W}abstractNum"):
            lvls: dict[int, tuple[str, str, int]] = {}
            for lvl in an.iter(f"{_W}lvl"):
                ilvl = int(lvl.get(f"{_W}ilvl", "0"))
                fmt = lvl.find(f"{_W}numFmt")
                text = lvl.find(f"{_W}lvlText")
                start = lvl.find(f"{_W}start")
                lvls[ilvl] = (
                    fmt.get(f"{_W}val", "decimal") if fmt is not None else "decimal",
                    text.get(f"{_W}val", "") if text is not None else "",
                    int(start.get(f"{_W}val", "1")) if start is not None else 1,
                )
            abstract[an.get(f"{_W}abstractNumId", "")] = lvls
        for num in numbering.iter(f"{_W}num"):
            ref = num.find(f"{_W}abstractNumId")
            if ref is None:
                continue
            for ilvl, spec in abstract.get(ref.get(f"{_W}val", ""), {}).items():
                self.levels[(num.get(f"{_W}numId", ""), ilvl)] = spec
        for style in document.styles.element.iter(f"{_W}style"):
            num_pr = style.find(f"{_W}pPr/{_W}numPr")
            if num_pr is not None:
                num_id = num_pr.find(f"{_W}numId")
                ilvl = num_pr.find(f"{_W}ilvl")
                if num_id is not None:
                    self.style_num[style.get(f"{_W}styleId", "")] = (
                        num_id.get(f"{_W}val", ""),
                        int(ilvl.get(f"{_W}val", "0")) if ilvl is not None else 0,
                    )

    def label(self, p: Any) -> str:
        num_pr = p.find(f"{_W}pPr/{_W}numPr")
        ref: tuple[str, int] | None = None
        if num_pr is not None:
            num_id = num_pr.find(f"{_W}numId")
            ilvl = num_pr.find(f"{_W}ilvl")
            if num_id is not None:
                ref = (
                    num_id.get(f"{_W}val", ""),
                    int(ilvl.get(f"{_W}val", "0")) if ilvl is not None else 0,
                )
        if ref is None:
            style = p.find(f"{_W}pPr/{_W}pStyle")
            if style is not None:
                ref = self.style_num.get(style.get(f"{_W}val", ""))
        if ref is None or ref[0] == "0" or (ref[0], ref[1]) not in self.levels:
            return ""
        num_id, ilvl = ref
        counters = self.counters.setdefault(num_id, [0] * 9)
        ilvl = min(max(ilvl, 0), 8)
        counters[ilvl] += 1
        for deeper in range(ilvl + 1, 9):
            counters[deeper] = 0
        fmt, text, _ = self.levels[(num_id, ilvl)]
        if fmt in ("bullet", "none"):
            return ""

        def value(level: int) -> str:
            spec = self.levels.get((num_id, level))
            if spec is None:
                return ""
            level_fmt, _, start = spec
            n = counters[level] + start - 1 if counters[level] else start
            return _format_number(n, level_fmt)

        return re.sub(r"%([1-9])", lambda m: value(int(m.group(1)) - 1), text)


_CN_NUMERALS = "〇一二三四五六七八九"


def _chinese(n: int) -> str:
    if n <= 0:
        return str(n)
    if n < 10:
        return _CN_NUMERALS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return (
            ("" if tens == 1 else _CN_NUMERALS[tens]) + "十" + (_CN_NUMERALS[ones] if ones else "")
        )
    return str(n)


def _format_number(n: int, fmt: str) -> str:
    if fmt in (
        "chineseCounting",
        "chineseCountingThousand",
        "chineseLegalSimplified",
        "ideographTraditional",
        "taiwaneseCounting",
        "taiwaneseCountingThousand",
    ):
        return _chinese(n)
    if fmt == "decimalEnclosedCircle" or fmt == "decimalEnclosedCircleChinese":
        return chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n)
    if fmt == "decimalEnclosedParen":
        return chr(0x2474 + n - 1) if 1 <= n <= 20 else f"({n})"
    if fmt == "upperLetter":
        return chr(ord("A") + (n - 1) % 26)
    if fmt == "lowerLetter":
        return chr(ord("a") + (n - 1) % 26)
    if fmt == "decimalFullWidth":
        return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return str(n)
