"""``dualcontrol publish bulletin --year Y --format html|pdf|xlsx --output PATH``.

Writes the year's bulletin (公报) in the official layout.  When a bulletin for the year has been
published on the platform, that frozen version is written; otherwise the figures are computed
now from the accounted statistics and the document is marked 草稿（未发布） (``--require-published``
refuses instead).  Needs the database (Django).

When the year has CO2 data the bulletin carries the CO2 table too (单位地区生产总值二氧化碳排放上升或
下降, platform layout): below the energy table in HTML and PDF, on a second sheet in Excel, as
``co2`` in JSON; a CSV holds one table — ``--table co2`` writes the CO2 one (the default,
``energy``, is the energy table as before).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dualcontrol.cli import CommandError, setup_django


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "publish", help="write published documents (公报) as HTML, PDF or Excel"
    )
    sub = parser.add_subparsers(dest="document", metavar="DOCUMENT")
    p = sub.add_parser(
        "bulletin",
        help="the annual bulletin of energy-intensity figures (公报), with the CO2 table when "
        "the year has CO2 data",
    )
    p.add_argument("--year", type=int, required=True)
    p.add_argument(
        "--format", choices=("html", "pdf", "xlsx", "csv", "json"), default="pdf", dest="fmt"
    )
    p.add_argument(
        "--output", required=True, help="file to write ('-' = standard output, text formats only)"
    )
    p.add_argument("--issuers", default="", help="issuing offices printed under the title (drafts)")
    p.add_argument(
        "--table",
        choices=("energy", "co2", "pollutants"),
        default="energy",
        help="which table a CSV holds (default energy; co2 = the CO2 table, pollutants = the "
        "pollutant table, when the year has such data); the other formats hold them all",
    )
    p.add_argument(
        "--require-published",
        action="store_true",
        help="refuse unless a bulletin for the year has been published",
    )
    p.set_defaults(func=bulletin)
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])


def _html(content: dict[str, Any], draft: bool) -> str:
    from django.template.loader import render_to_string

    return render_to_string(
        "publishing/bulletin_document.html", {"content": content, "draft": draft}
    )


def bulletin(args: argparse.Namespace) -> int:
    setup_django()
    import json

    from dualcontrol.publishing import bulletin as engine
    from dualcontrol.publishing import render, services
    from dualcontrol.publishing.models import PublicationKind

    published = services.current(PublicationKind.BULLETIN, args.year)
    if published is not None:
        content, draft = dict(published.content), False
    elif args.require_published:
        raise CommandError(f"no bulletin has been published for {args.year}")
    else:
        try:
            content = engine.compute(args.year, issuers=args.issuers)
        except engine.BulletinError as exc:
            raise CommandError(str(exc)) from exc
        draft = True
        print(
            f"dualcontrol publish: no bulletin published for {args.year}; "
            "writing the current figures as a draft",
            file=sys.stderr,
        )
    if args.fmt == "pdf":
        data: bytes | str = render.to_pdf(
            content, published_on=content.get("published_on", ""), draft=draft
        )
    elif args.fmt == "xlsx":
        data = render.to_xlsx(content)
    elif args.fmt == "csv":
        if args.table != "energy" and not content.get(args.table):
            raise CommandError(
                f"the {args.year} bulletin has no {args.table} table (no such statistics)"
            )
        data = render.to_csv(content, table=args.table)
    elif args.fmt == "json":
        data = json.dumps({**content, "draft": draft}, ensure_ascii=False, indent=2, default=str)
    else:
        data = _html(content, draft)
    if args.output == "-":
        if isinstance(data, bytes):
            raise CommandError("binary formats need --output FILE")
        sys.stdout.write(data)
        return 0
    out = Path(args.output)
    try:
        if isinstance(data, bytes):
            out.write_bytes(data)
        else:
            out.write_text(data, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc}") from exc
    print(
        f"wrote {out} ({'draft' if draft else 'published version ' + str(content.get('version', 1))})"
    )
    return 0
