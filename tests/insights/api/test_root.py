"""/api/v1/ lists the endpoints; the docs pages load nothing from outside the site."""

import re

import pytest
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# What a page fetches: src/href attributes, CSS url(...) and @import.
FETCHED = re.compile(
    r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)|@import\s+["']([^"']+)"""
)


def test_root_lists_every_endpoint_with_its_url_and_what_it_answers(api):
    # when
    response = api.get("/api/v1/")

    # then
    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()["endpoints"]}
    assert set(rows) == {
        "growth",
        "demographics",
        "sales",
        "lost-reasons",
        "top-products",
        "rfm",
        "revenue",
        "forecast",
        "health",
        "customer-value",
        "lifecycle",
        "retention",
        "service",
        "owners",
        "customers",
        "segments",
        "schema",
        "swagger",
        "redoc",
    }
    assert rows["growth"]["url"] == "http://testserver/api/v1/insights/growth/"
    assert rows["revenue"]["description"].startswith("Revenue: Revenue KPIs")
    assert rows["lifecycle"]["description"].startswith("Buyer lifecycle: New, returning")
    assert all(row["description"] and "\n" not in row["description"] for row in rows.values())
    assert rows["customers"]["url"] == "http://testserver/api/v1/customers/"
    for row in rows.values():
        assert api.get(row["url"]).status_code == 200, row["name"]


def test_root_page_title_is_the_apis_name(viewer):
    client = APIClient()
    client.force_login(viewer)
    html = client.get("/api/v1/", HTTP_ACCEPT="text/html").content.decode()
    assert "Wawasan API" in html
    assert "Api Root" not in html


def test_root_needs_the_insights_permission():
    # given
    anonymous = APIClient()
    staff = APIClient()
    staff.force_authenticate(UserFactory(is_staff=True))

    # when / then
    assert anonymous.get("/api/v1/").status_code == 401
    assert staff.get("/api/v1/").status_code == 403


def _external(urls: list[str]) -> list[str]:
    return [u for u in urls if re.match(r"^(https?:)?//", u)]


@pytest.mark.parametrize("url", ["/api/v1/schema/redoc/", "/api/v1/schema/swagger/"])
def test_docs_pages_fetch_nothing_from_outside(viewer, url):
    # given
    client = APIClient()
    client.force_login(viewer)

    # when
    html = client.get(url).content.decode()

    # then: neither the page nor the scripts and styles it loads reach another host
    fetched = [next(g for g in m if g) for m in FETCHED.findall(html)]
    assert fetched, "the page loads its assets"
    assert _external(fetched) == []
    assert "fonts.googleapis" not in html and "fonts.gstatic" not in html
    for asset in fetched:
        if not asset.startswith("/static/"):
            continue
        path = finders.find(asset.removeprefix("/static/").split("?")[0])
        text = open(path, encoding="utf-8", errors="replace").read()
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text, asset
        css_urls = re.findall(r"url\(\s*[\"']?(https?://[^\"')]+)", text)
        assert css_urls == [], asset
