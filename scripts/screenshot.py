"""Take the README's pictures from a running `make demo` (Debian's Chromium, Playwright).

.venv/bin/python scripts/screenshot.py [BASE_URL] [OUT_DIR]

Every page a manager reads (the dashboard, the customer list, a customer's 360° page, the
import page, a saved segment's form) in English and Bahasa Indonesia, at 1,440 px, and the
dashboard and the 360° page at 390 px: OUT_DIR/<page>-<language>[-phone].png.
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(sys.argv[2] if len(sys.argv) > 2 else "docs/screenshots")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
# (name, path, widths); {customer} and {segment} are filled from the list pages.
PAGES = [
    ("dashboard", "/admin/insights/dashboard/?preset=this_year", (1440, 390)),
    ("customers", "/admin/customers/customer/", (1440,)),
    ("customer360", "/admin/insights/customer360/{customer}/", (1440, 390)),
    ("import", "/admin/import/", (1440,)),
    ("segment", "/admin/insights/segment/{segment}/change/", (1440,)),
]


def first_id(page, list_path: str, pattern: str) -> str | None:
    page.goto(f"{BASE}{list_path}")
    href = page.evaluate(
        f"() => {{ const a = document.querySelector('a[href*=\"{pattern}\"]');"
        " return a ? a.getAttribute('href') : null; }"
    )
    if not href:
        return None
    return href.rstrip("/").split("/")[-1] if "change" not in href else href.split("/")[-3]


OUT.mkdir(parents=True, exist_ok=True)
with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    for language in ("en", "id"):
        for width in (1440, 390):
            context = browser.new_context(viewport={"width": width, "height": 900}, locale=language)
            context.add_cookies([{"name": "django_language", "value": language, "url": BASE}])
            page = context.new_page()
            page.goto(f"{BASE}/admin/login/")
            page.fill("#id_username", "admin")
            page.fill("#id_password", "wawasan-demo")
            page.click("input[type=submit]")
            page.wait_for_load_state()
            ids = {
                "customer": first_id(page, "/admin/customers/customer/?ordering=-lifetime_revenue",
                                     "/admin/insights/customer360/"),
                "segment": first_id(page, "/admin/insights/segment/", "/change/"),
            }  # fmt: skip
            for name, path, widths in PAGES:
                if width not in widths:
                    continue
                if ("{segment}" in path and not ids["segment"]) or (
                    "{customer}" in path and not ids["customer"]
                ):
                    continue
                page.goto(f"{BASE}{path.format(**ids)}")
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(1200)  # Chart.js animations
                suffix = "" if width == 1440 else "-phone"
                target = OUT / f"{name}-{language}{suffix}.png"
                page.screenshot(path=str(target), full_page=True)
                print(f"saved {target}")
            context.close()
    browser.close()
