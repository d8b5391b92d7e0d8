"""Printing keeps the barometer's colours and drops the menus (issue 14), in headless Chromium.

The printed barometer used to lose every colour (tiles, 12-month grid, legend: backgrounds are
dropped unless the print dialog's "background graphics" is ticked) and other pages printed the menu
bar and buttons.  static/css/print.css (linked from base.html) keeps the colours with
``print-color-adjust: exact``, hides the navigation, and prints A4 with a header (title, date) and
page numbers.  The PDF is made with ``print_background=False``: what an officer gets with the
dialog's defaults.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tests.browser.test_smoke import CHROMIUM, login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]

POPPLER = all(shutil.which(tool) for tool in ("pdftoppm", "pdfinfo", "pdftotext"))


@pytest.fixture
def barometer(transactional_db):
    # built before the browser starts: Playwright's sync API runs an event loop in this thread
    from django.utils import timezone

    from dualcontrol.targets import services
    from tests.factories import world
    from tests.targets.targets_world import build

    build(world())
    services.compute_warnings(year=2026, month=6, system=True)
    return timezone.localdate().isoformat()


def _style(page, selector: str, prop: str) -> str:
    return page.eval_on_selector(selector, f"e => getComputedStyle(e).getPropertyValue('{prop}')")


def _red_pixels(ppm: bytes) -> int:
    """Pixels of the barometer's red (#c0392b, give or take) in a binary PPM (P6) image."""
    fields = ppm.split(maxsplit=4)
    assert fields[0] == b"P6" and fields[3] == b"255"
    pixels = fields[4]
    return sum(
        1
        for i in range(0, len(pixels) - 2, 3)
        if pixels[i] > 170 and pixels[i + 1] < 90 and pixels[i + 2] < 80
    )


def test_printed_barometer_keeps_colours_and_drops_the_menus(
    live_server, barometer, browser, tmp_path
):
    from tests.factories import PASSWORD

    today = barometer
    ctx, page = login(browser, live_server.url, "admin1", PASSWORD)

    # a page of another app, without print rules of its own: no menu bar, no buttons on paper
    page.goto(f"{live_server.url}/reports/")
    page.emulate_media(media="print")
    assert page.locator("header.top").is_hidden()
    assert page.locator(".btn").count() == 0 or all(
        b.is_hidden() for b in page.locator(".btn").all()
    )
    head = page.locator(".print-head")
    assert head.is_visible() and today in head.inner_text()

    page.emulate_media(media="screen")
    page.goto(f"{live_server.url}/targets/")
    page.wait_for_load_state("networkidle")
    assert page.locator(".print-head").is_hidden()  # the header is for paper only
    page.emulate_media(media="print")
    assert page.locator("header.top").is_hidden() and page.locator(".subnav").is_hidden()
    head_text = page.locator(".print-head").inner_text()
    assert "节能目标晴雨表" in head_text and today in head_text
    for selector in (".tile.red", ".timeline td.c", ".legend i", ".lv.red"):
        assert _style(page, selector, "print-color-adjust") == "exact", selector
    assert _style(page, ".tile.red", "background-color") not in (
        "rgba(0, 0, 0, 0)",
        "rgb(255, 255, 255)",
    )

    pdf = tmp_path / "barometer.pdf"
    # no format given: the page's own @page rule decides the paper; backgrounds not forced
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=False)
    ctx.close()
    if not POPPLER:
        pytest.skip("poppler-utils (pdfinfo, pdftotext, pdftoppm) not installed")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    size = next(line for line in info.splitlines() if line.startswith("Page size:"))
    width, _x, height = size.split()[2:5]
    assert abs(float(width) - 595.3) < 1 and abs(float(height) - 841.9) < 1, size  # A4, points
    pages = int(next(line for line in info.splitlines() if line.startswith("Pages:")).split()[1])
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(rf"\b1 ?/ ?{pages}\b", text) and today in text  # page numbers, date
    first = subprocess.run(
        ["pdftoppm", "-r", "30", "-f", "1", "-l", "1", str(pdf)], capture_output=True, check=True
    ).stdout
    # the red tile and the red level badges are printed in colour (zero before print.css)
    assert _red_pixels(first) > 200
