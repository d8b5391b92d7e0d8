"""Uploaded tables (issue 13): time and peak memory of the bounded reader.

1. Every file of the hostile corpus (``tests/data/hostile_uploads``) through the 205-1 reader:
   refused or read, wall time, tracemalloc peak.
2. A genuine large statistics workbook (20 000 rows × 12 columns, .xlsx and CSV) through the
   statistics reader: wall time and peak — the cost of a real file at a province's scale.
3. The old way for comparison: openpyxl's read-only ``iter_rows`` on the A1:XFD20000 range bomb
   (only the first 200 rows are taken, then extrapolated — the full read took 2.7 GB).

    .venv/bin/python -m benchmarks uploads
"""

from __future__ import annotations

import io
import json
import time
import tracemalloc
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "hostile_uploads"


def _measure(fn: Any) -> tuple[str, float, float]:
    """(outcome, wall seconds without tracing, tracemalloc peak in MB of a second run)."""

    def run() -> str:
        try:
            fn()
        except ValueError as exc:  # the readers' refusals are ValueErrors
            return f"refused ({type(exc).__name__})"
        return "read"

    start = time.perf_counter()
    outcome = run()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return outcome, seconds, peak


def _statistics_xlsx(rows: int) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("statistics")
    ws.append(
        [
            "region",
            "year",
            "month",
            "energy_tce",
            "gdp_10k_yuan",
            "gdp_real_growth_pct",
            "co2_t",
            "coal_t",
            "non_fossil_tce",
            "source",
            "industry",
            "note",
        ]
    )
    for i in range(rows):
        ws.append(
            [
                f"53{i % 9999:04d}",
                2020 + i % 6,
                1 + i % 12,
                1234.5 + i,
                98765.4,
                5.1,
                2222.2,
                333.3,
                44.4,
                "统计年鉴",
                "",
                "",
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def main() -> None:
    from dualcontrol.formats.report205 import read_report
    from dualcontrol.formats.upload_tables import read_upload

    read_report((CORPUS / "good_205_1.xlsx").read_bytes(), "x.xlsx")  # imports, once
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    worst = (0.0, "")
    print(f"{'file':40s} {'outcome':28s} {'s':>6s} {'peak MB':>8s}")
    for entry in manifest:
        data = (CORPUS / entry["file"]).read_bytes()
        outcome, seconds, peak = _measure(lambda d=data, n=entry["file"]: read_report(d, n))
        worst = max(worst, (peak, entry["file"]))
        print(f"{entry['file']:40s} {outcome:28s} {seconds:6.2f} {peak:8.2f}")
    print(f"largest peak over the corpus: {worst[0]:.2f} MB ({worst[1]})")

    rows = 20_000
    xlsx = _statistics_xlsx(rows)
    outcome, seconds, peak = _measure(lambda: read_upload(xlsx, "s.xlsx", kind="statistics"))
    print(
        f"statistics .xlsx {rows} rows ({len(xlsx) / 1e6:.1f} MB): {outcome}, "
        f"{seconds:.2f} s, peak {peak:.1f} MB"
    )
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(xlsx), read_only=True)
    text = "\n".join(
        ",".join("" if v is None else str(v) for v in r)
        for r in wb.worksheets[0].iter_rows(values_only=True)
    ).encode()
    wb.close()
    outcome, seconds, peak = _measure(lambda: read_upload(text, "s.csv", kind="statistics"))
    print(
        f"statistics .csv {rows} rows ({len(text) / 1e6:.1f} MB): {outcome}, "
        f"{seconds:.2f} s, peak {peak:.1f} MB"
    )

    bomb = (CORPUS / "range_bomb_xfd20000.xlsx").read_bytes()
    tracemalloc.start()
    start = time.perf_counter()
    ws = load_workbook(io.BytesIO(bomb), read_only=True).worksheets[0]
    for taken, _row in enumerate(ws.iter_rows(values_only=True), start=1):
        if taken == 200:
            break
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    print(
        f"old iter_rows on A1:XFD20000: 200 of 20 000 padded rows took {seconds:.2f} s "
        f"(≈{seconds * 100:.0f} s for the sheet); each row is 16 384 cells"
    )
    print(
        f"  peak for 200 rows streamed: {peak:.1f} MB (kept as a list, as the old readers did: "
        f"≈{20_000 * 16_384 * 8 / 1e9:.1f} GB of pointers alone)"
    )
