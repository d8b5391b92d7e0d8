"""``dualcontrol publish bulletin --year Y --format html|pdf|xlsx --output PATH``.

Writes the year's bulletin (公报) in the official layout.  When a bulletin for the year has been
published on the platform, that frozen version is written; otherwise the figures are computed
now from the accounted statistics and the document is marked 草稿（未发布） (``--require-published``
refuses instead).  Needs the database (Django).

When the year has CO2 data the bulletin carries the CO2 table too (单位地区生产总值二氧化碳排放上升或
下降, platform layout): below the energy table in HTML and PDF, on a second sheet in Excel, as
``co2`` in JSON; a CSV holds one table — ``--table co2`` writes the CO2 one (the default,
``energy``, is the energy table as before).

``dualcontrol publish exceedances --year Y --quarter Q [--format json|csv|table]`` prints the
quarter's exceedance list (重点排污单位超标名单): the published version when there is one, else the
list computed now from the monitoring data, marked draft (``--require-published`` refuses instead).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dualcontrol import exports
from dualcontrol.cli import CommandError, setup_django

#: the fields of an exceedance-list row, in printing order (csv header, json keys, table columns)
EXCEEDANCE_FIELDS = (
    "region",
    "unit_name",
    "uscc",
    "outlet",
    "pollutant_code",
    "pollutant",
    "limit",
    "max_value",
    "unit",
    "multiple",
    "days",
    "hours",
    "treatment",
    "alarms",
)
#: the text fields (left-aligned in the table; the others are numbers)
EXCEEDANCE_TEXT = frozenset(EXCEEDANCE_FIELDS) - {"limit", "max_value", "multiple", "days", "hours"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "publish",
        help="write published documents (公报) as HTML, PDF or Excel; print the quarterly "
        "exceedance list (超标名单)",
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
    e = sub.add_parser(
        "exceedances",
        help="the quarterly exceedance list of monitored outlets (重点排污单位超标名单)",
        description="Print the rows of a quarter's exceedance list: the published version, or "
        "(marked draft) the list computed now from the monitoring alarms.  Fields: "
        + ", ".join(EXCEEDANCE_FIELDS)
        + ".",
    )
    e.add_argument("--year", type=int, required=True)
    e.add_argument("--quarter", type=int, required=True, choices=(1, 2, 3, 4))
    e.add_argument("--format", choices=("json", "csv", "table"), default="table", dest="fmt")
    e.add_argument(
        "--require-published",
        action="store_true",
        help="refuse unless a list for the quarter has been published",
    )
    e.set_defaults(func=exceedance_list)
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


def _exceedance_records(content: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for row in content.get("rows", []):
        fields = row.get("fields", {})
        rec = {k: fields.get(k, "") for k in EXCEEDANCE_FIELDS}
        rec["outlet"] = row.get("outlet_mn", "")
        rec["pollutant_code"] = row.get("pollutant_code", "")
        rec["days"] = row["figures"]["days"]
        rec["hours"] = row["figures"]["hours"]
        rec["alarms"] = " ".join(str(a["id"]) for a in row.get("alarms", []))
        out.append(rec)
    return out


def exceedance_list(args: argparse.Namespace) -> int:
    setup_django()
    import json

    from dualcontrol.publishing import exceedances, services
    from dualcontrol.publishing.models import PublicationKind

    published = services.current_quarterly(PublicationKind.EXCEEDANCES, args.year, args.quarter)
    if published is not None:
        content, draft = dict(published.content), False
    elif args.require_published:
        raise CommandError(f"no exceedance list has been published for {args.year} Q{args.quarter}")
    else:
        try:
            content = exceedances.compute(args.year, args.quarter)
        except exceedances.ExceedanceListError as exc:
            raise CommandError(str(exc)) from exc
        draft = True
        print(
            f"dualcontrol publish: no exceedance list published for {args.year} Q{args.quarter}; "
            "printing the list computed now from the monitoring data (draft)",
            file=sys.stderr,
        )
    records = _exceedance_records(content)
    out = sys.stdout
    if args.fmt == "json":
        payload = {
            "year": args.year,
            "quarter": args.quarter,
            "title": content.get("title", ""),
            "draft": draft,
            "version": None if draft else content.get("version"),
            "published_on": None if draft else content.get("published_on"),
            "computed_at": content.get("computed_at"),
            "rules": content.get("rules", {}),
            "rows": [
                {**rec, "alarms": [a["id"] for a in row.get("alarms", [])]}
                for rec, row in zip(records, content.get("rows", []), strict=True)
            ],
            "not_counted": content.get("not_counted", []),
            "footnotes": content.get("footnotes", []),
        }
        out.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    elif args.fmt == "csv":
        writer = exports.DictWriter(out, fieldnames=EXCEEDANCE_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    else:
        out.write(f"{content.get('title', '')}{'（草稿）' if draft else ''}\n")
        if records:
            out.write(_exceedance_table(records))
        else:
            out.write("(no outlet on the list)\n")
    return 0


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _exceedance_table(records: list[dict[str, Any]]) -> str:
    """Aligned plain-text columns (numbers right-aligned; CJK characters count double)."""
    rows = [list(EXCEEDANCE_FIELDS)] + [[str(rec[f]) for f in EXCEEDANCE_FIELDS] for rec in records]
    widths = [max(_width(r[i]) for r in rows) for i in range(len(EXCEEDANCE_FIELDS))]
    lines = []
    for row in rows:
        parts = []
        for i, cell in enumerate(row):
            fill = " " * (widths[i] - _width(cell))
            parts.append(cell + fill if EXCEEDANCE_FIELDS[i] in EXCEEDANCE_TEXT else fill + cell)
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines) + "\n"
