"""Take screenshots of the main pages in headless Chromium (Debian's /usr/bin/chromium).

Usage: python tools/screenshots.py BASE_URL OUT_DIR [PAGE ...]
Each PAGE is "user:path:name" (user "-" = anonymous; "user@en" = that user with an English browser);
without pages, the standard set is taken. Demo officers and administrators pass the second factor
with the code ``dualcontrol demo-otp USER`` prints (run with the server's DUALCONTROL_DATA_DIR /
DATABASE_URL in the environment).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "demo12345"
DEFAULT = [
    "-:/accounts/login/:login",
    "demo-province:/:home-province",
    "demo-city:/:home-city",
    "demo-city:/reports/review/:review-queue",
    "demo-enterprise:/:home-enterprise",
    "demo-enterprise:/reports/new/:report-form",
    "demo-enterprise:/reports/upload/:upload",
    "demo-auditor:/audit/:audit",
    "demo-auditor:/:home-auditor",
    "demo-sysadmin:/:home-sysadmin",
    "demo-security:/:home-security",
    "demo-province:/entities/:entities",
    "demo-province:/targets/:targets-dashboard",
    "demo-province:/metering/:metering-list",
    "demo-province:/monitoring/:monitoring-outlets",
    "demo-province:/tasks/:tasks-plans",
    "demo-province:/assessment/:assessment-list",
    "-:/public/bulletins/:publishing-bulletins",
]


def demo_code(username: str) -> str:
    """The demo account's current second-factor code (``dualcontrol demo-otp``)."""
    exe = Path(sys.executable).with_name("dualcontrol")
    out = subprocess.run(
        [str(exe), "demo-otp", username], check=True, capture_output=True, text=True
    ).stdout
    return out.strip().split()[0]


def main(argv: list[str]) -> int:
    base, out = argv[0].rstrip("/"), Path(argv[1])
    pages = argv[2:] or DEFAULT
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        contexts: dict[str, object] = {}
        for spec in pages:
            user, path, name = spec.split(":", 2)
            if user not in contexts:
                login, _, lang = user.partition("@")
                locale = "en-US" if lang == "en" else "zh-CN"
                ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale=locale)
                if login != "-":
                    page = ctx.new_page()
                    page.goto(f"{base}/accounts/login/")
                    page.fill("#id_username", login)
                    page.fill("#id_password", PASSWORD)
                    page.click("button[type=submit]")
                    page.wait_for_load_state("networkidle")
                    if "/accounts/2fa/" in page.url:
                        page.fill("#id_code", demo_code(login))
                        page.click("form:has(#id_code) button[type=submit]")
                        page.wait_for_load_state("networkidle")
                    page.close()
                contexts[user] = ctx
            page = contexts[user].new_page()  # type: ignore[attr-defined]
            page.goto(f"{base}{path}")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
            print(f"{name}: {page.title()} -> {out / (name + '.png')}")
            page.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
