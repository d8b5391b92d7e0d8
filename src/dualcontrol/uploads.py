"""Checks of uploaded documents (evidence, certificates): extension, size and leading bytes.

One place for every app that takes a document from a user; each passes its own accepted
extensions and size limit (reference data of that app).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

# Leading bytes of each accepted document type ("txt": decodable text without NUL bytes).
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF",),
    "ofd": (b"PK\x03\x04",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "zip": (b"PK\x03\x04",),
    "doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
}


def extension(upload: UploadedFile) -> str:
    return PurePath(PurePath(upload.name or "").name).suffix.lower().lstrip(".")


def refusal(upload: UploadedFile, *, extensions: Sequence[str], max_bytes: int) -> str | None:
    """A reason to refuse ``upload`` (extension, size, content against the extension), or None."""
    ext = extension(upload)
    if ext not in extensions:
        return _("不接受 .%(ext)s 文件；可上传：%(allowed)s") % {
            "ext": ext or "?",
            "allowed": "、".join(extensions),
        }
    size = upload.size or 0
    if size == 0:
        return _("文件是空的。")
    if size > max_bytes:
        return _("文件超过 %(mb)s MB。") % {"mb": max_bytes // (1024 * 1024)}
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    if ext == "txt":
        sample = head if size <= 2048 else head[:2040]
        if b"\x00" in sample:
            return _("文件内容与扩展名不符。")
        for encoding in ("utf-8", "gb18030"):
            try:
                sample.decode(encoding)
                return None
            except UnicodeDecodeError:
                continue
        return _("文本文件须为 UTF-8 或 GB18030 编码。")
    signatures = SIGNATURES.get(ext)
    if signatures and not any(head.startswith(s) for s in signatures):
        return _("文件内容与扩展名 .%(ext)s 不符。") % {"ext": ext}
    return None


def download(document: Any, filename: str) -> FileResponse:
    """A stored upload as an attachment named ``filename``; 404 when the file is missing (none
    stored, or gone from storage)."""
    try:
        handle = document.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    return FileResponse(handle, as_attachment=True, filename=filename)
