"""Every problem of a refused upload, once: the capped list on the page and the annotated copy.

Every importer (205-1 reports, regional statistics, key-unit status reports, the registries)
collects all the problems of a file before refusing it, each addressed by sheet, row and column
(:class:`dualcontrol.formats.upload_tables.CellError` or an app's ``Problem``: anything with
``sheet``, ``row``, ``column`` and ``reason``).  This module turns that list into

* :func:`capped` — the problems shown on the page and the count of the rest ("以及另外 214 个问题"),
  the cap being a platform rule (``reference/data/upload_problems.yaml``);
* :func:`annotated_workbook` — an .xlsx copy of the upload with each bad cell filled and a comment
  giving the reason, plus a sheet 问题清单 listing sheet / row / column / reason of every problem
  (a CSV upload becomes a workbook of its text);
* :func:`refusal` — both of them for a page, the copy stored for the uploading user and served by
  :func:`download` (only to that user).

openpyxl is used directly (not the styled exports of :mod:`dualcontrol.exports`): the copy keeps
the user's own workbook.  The file is opened with openpyxl only after the platform's bounded reader
(:func:`dualcontrol.formats.upload_tables.read_upload`) has accepted it; a file that reader refuses
(too large, a "zip bomb", not a table) gets a copy with the problem list only.
"""

from __future__ import annotations

import io
import re
import secrets
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import PurePath
from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse

from dualcontrol.access.rules import rule_required
from dualcontrol.exports import append, put

PROBLEMS_FILE = "upload_problems.yaml"
STORE_DIR = "upload-problems"
LIST_SHEET = "问题清单"
_LETTERS = re.compile(r"^[A-Z]{1,3}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _(message: str) -> str:
    from django.utils.translation import gettext

    return gettext(message)


@dataclass(frozen=True)
class ProblemRules:
    """``upload_problems.yaml``: the page cap, the fill of a bad cell, copies kept per user."""

    version: str
    listed_on_page: int
    fill_argb: str
    kept_per_user: int
    max_cells_copied: int


@cache
def problem_rules() -> ProblemRules:
    from dualcontrol.reference import ReferenceDataError, load_yaml

    version, data = load_yaml(PROBLEMS_FILE)
    try:
        rules = ProblemRules(
            version=version,
            listed_on_page=int(data["listed_on_page"]),
            fill_argb=str(data["fill_argb"]),
            kept_per_user=int(data["kept_per_user"]),
            max_cells_copied=int(data["max_cells_copied"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ReferenceDataError(f"{PROBLEMS_FILE}: missing or invalid value ({exc})") from exc
    if min(rules.listed_on_page, rules.kept_per_user, rules.max_cells_copied) <= 0:
        raise ReferenceDataError(f"{PROBLEMS_FILE}: the counts must be positive")
    if not re.fullmatch(r"[0-9A-Fa-f]{8}", rules.fill_argb):
        raise ReferenceDataError(f"{PROBLEMS_FILE}: fill_argb must be 8 hex digits (ARGB)")
    return rules


def capped(problems: Sequence[Any], limit: int | None = None) -> tuple[list[Any], int]:
    """(the problems shown on the page, how many more there are)."""
    limit = problem_rules().listed_on_page if limit is None else limit
    shown = list(problems[:limit])
    return shown, max(0, len(problems) - len(shown))


# ------------------------------------------------------------------------------------------
# the annotated copy


def _column_index(letters: str) -> int:
    """A → 1, Z → 26, AA → 27."""
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def _safe_title(title: str, taken: Iterable[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", title or "csv")[:31] or "csv"
    name, n = base, 1
    while name in set(taken):
        n += 1
        name = f"{base[:28]}~{n}"
    return name


def _load(data: bytes, filename: str, kind: str, csv_sheet: str, rules: ProblemRules) -> Any:
    """The upload as an openpyxl workbook (its own workbook for .xlsx, the text of a CSV in a new
    one), or None when the platform's reader refuses the file or it has more cells than the
    rule's ``max_cells_copied``."""
    from openpyxl import Workbook, load_workbook

    from dualcontrol.formats.upload_tables import TableRefused, read_upload

    try:
        table = read_upload(data, filename, kind=kind, csv_sheet=csv_sheet)
    except TableRefused:
        return None
    if sum(len(row) for sheet in table.sheets for row in sheet.rows) > rules.max_cells_copied:
        return None
    if table.format == "xlsx":
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # unsupported extensions (validation, images)
                return load_workbook(io.BytesIO(data))
        except Exception:  # openpyxl cannot open it: fall back to the values the reader got
            pass
    wb = Workbook()
    wb.remove(wb.active)
    for sheet in table.sheets:
        ws = wb.create_sheet(_safe_title(sheet.title, wb.sheetnames))
        for r, row in enumerate(sheet.rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None and value != "":
                    put(ws, r, c, value)  # text stays text: a CSV's "=…" is never a formula
    return wb


def _target_sheet(wb: Any, name: str, data_sheets: list[str]) -> Any:
    if name in data_sheets:
        return wb[name]
    if len(data_sheets) == 1:  # a CSV (its sheet named "csv" or after the file) or one sheet
        return wb[data_sheets[0]]
    return None


def _column_of(ws: Any, column: str) -> int | None:
    """The column index of ``column``: a letter (G, AA), else a header name in the first rows."""
    text = (column or "").strip()
    if _LETTERS.match(text):
        return _column_index(text)
    if not text:
        return None
    for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, 20)):
        for cell in row:
            if cell.value is not None and str(cell.value).strip() == text:
                return int(cell.column)
    return None


def annotated_workbook(data: bytes, filename: str, problems: Sequence[Any], *, kind: str) -> bytes:
    """The upload as .xlsx with every bad cell filled and commented, and a sheet 问题清单 listing
    every problem (sheet, row, column, reason).  ``kind`` names the upload limits
    (``upload_limits.yaml``) under which the file is re-read."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    rules = problem_rules()
    # a CSV's one sheet is named as its importer names it in the problems ("csv", the file name)
    named = [str(getattr(p, "sheet", "") or "") for p in problems]
    csv_sheet = max(set(named) - {""}, key=named.count, default="csv")
    wb = _load(data, filename, kind, csv_sheet, rules)
    if wb is None:
        wb = Workbook()
        wb.remove(wb.active)
    data_sheets = list(wb.sheetnames)
    fill = PatternFill(start_color=rules.fill_argb, end_color=rules.fill_argb, fill_type="solid")
    reasons: dict[tuple[str, int, int], list[str]] = {}
    for p in problems:
        row = int(getattr(p, "row", 0) or 0)
        ws = _target_sheet(wb, str(getattr(p, "sheet", "") or ""), data_sheets)
        if ws is None or row <= 0:
            continue
        col = _column_of(ws, str(getattr(p, "column", "") or "")) or 1
        reasons.setdefault((ws.title, row, col), []).append(str(p.reason))
    for (title, row, col), texts in reasons.items():
        cell = wb[title].cell(row=row, column=col)
        cell.fill = fill
        comment = Comment("\n".join(texts), "dualcontrol")
        comment.width, comment.height = 300, 40 + 20 * len(texts)
        cell.comment = comment
    # the list goes last, so a corrected copy uploads again as it is (importers read the first
    # sheet, or theirs by name); it is the sheet the copy opens on
    listing = wb.create_sheet(_safe_title(LIST_SHEET, wb.sheetnames))
    append(listing, [_("工作表"), _("行"), _("列"), _("原因")])
    for cell in listing[1]:
        cell.font = Font(bold=True)
    for p in problems:
        row = int(getattr(p, "row", 0) or 0)
        append(
            listing,
            [str(getattr(p, "sheet", "") or ""), row or None, str(p.column or ""), str(p.reason)],
        )
    for letter, width in (("A", 18), ("B", 8), ("C", 10), ("D", 90)):
        listing.column_dimensions[letter].width = width
    listing.freeze_panes = "A2"
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws is listing
    wb.active = len(wb.sheetnames) - 1
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ------------------------------------------------------------------------------------------
# stored for the uploading user, served by download()


def _user_dir(user: Any) -> str:
    return f"{STORE_DIR}/{int(getattr(user, 'pk', 0) or 0)}"


def store(content: bytes, *, user: Any) -> str:
    """Store an annotated copy for ``user``; returns its token (the user's older copies beyond
    ``kept_per_user`` are deleted)."""
    from django.core.files.base import ContentFile

    # the time first: the user's copies sort oldest first by name; the random part is the secret
    token = f"{time.time_ns():020d}-{secrets.token_urlsafe(24)}"
    folder = _user_dir(user)
    default_storage.save(f"{folder}/{token}.xlsx", ContentFile(content))
    try:
        _dirs, files = default_storage.listdir(folder)
        aged = sorted(f for f in files if f.endswith(".xlsx"))
        for name in aged[: max(0, len(aged) - problem_rules().kept_per_user)]:
            default_storage.delete(f"{folder}/{name}")
    except (NotImplementedError, OSError):  # pragma: no cover - storages without listing
        pass
    return token


@dataclass
class Refusal:
    """What a refusal page shows: the first problems, the count of the rest, the download."""

    problems: list[Any]
    shown: list[Any]
    more: int
    token: str = ""
    filename: str = ""

    @property
    def total(self) -> int:
        return len(self.problems)

    @property
    def url(self) -> str:
        if not self.token:
            return ""
        from urllib.parse import urlencode

        from django.urls import reverse

        query = urlencode({"name": PurePath(self.filename.replace("\\", "/")).name})
        return f"{reverse('upload-problems', args=[self.token])}?{query}"


def refusal(
    problems: Sequence[Any], *, data: bytes | None, filename: str, kind: str, user: Any
) -> Refusal:
    """The page's view of a refused upload; the annotated copy is stored for ``user`` (none when
    there is no file or no signed-in user)."""
    shown, more = capped(problems)
    token = ""
    if data and getattr(user, "pk", None):
        token = store(annotated_workbook(data, filename, problems, kind=kind), user=user)
    return Refusal(problems=list(problems), shown=shown, more=more, token=token, filename=filename)


def download_name(filename: str) -> str:
    stem = PurePath(PurePath((filename or "upload").replace("\\", "/")).name).stem or "upload"
    return f"{stem}-问题标注.xlsx"


@rule_required("home")  # every signed-in role; the copy is found only in the user's own folder
def download(request: HttpRequest, token: str) -> HttpResponse:
    """The annotated copy ``token`` of the signed-in user (404 for anyone else)."""
    if not _TOKEN.match(token):
        raise Http404
    path = f"{_user_dir(request.user)}/{token}.xlsx"
    if not default_storage.exists(path):
        raise Http404
    name = request.GET.get("name", "") or "upload"
    return FileResponse(
        default_storage.open(path, "rb"), as_attachment=True, filename=download_name(name)
    )
