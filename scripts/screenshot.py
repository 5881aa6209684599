"""Take the README's dashboard picture from a running `make demo` (Debian's Chromium).

.venv/bin/python scripts/screenshot.py [BASE_URL] [OUT]
"""

import sys

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = sys.argv[2] if len(sys.argv) > 2 else "docs/screenshots/dashboard.png"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip

with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(f"{BASE}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "wawasan-demo")
    page.click("input[type=submit]")
    page.goto(f"{BASE}/admin/insights/dashboard/?preset=this_year")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1500)  # Chart.js animations
    page.screenshot(path=OUT, full_page=True)
    browser.close()
print(f"saved {OUT}")
