"""The browser of the browser checks: Debian's headless chromium through Playwright."""

from __future__ import annotations

import pytest

from tests.browser.test_smoke import ARGS, CHROMIUM


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
