"""Issue 27 item 20: the ReDoc page runs under the Content-Security-Policy (no inline script)."""

import re

import pytest
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S)


def test_redoc_page_has_no_inline_script_and_its_starter_is_a_static_file(viewer):
    # given
    client = APIClient()
    client.force_login(viewer)
    # when
    response = client.get("/api/v1/schema/redoc/")
    html = response.content.decode()
    # then: the CSP allows scripts from this site only, and every script here is a file
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    scripts = list(SCRIPT.finditer(html))
    assert len(scripts) == 2
    assert all(m["body"].strip() == "" and "src=" in m["attrs"] for m in scripts)
    starter = re.search(r'src="/static/([^"]*redoc_init[^"]*)"', html)
    assert starter is not None
    text = open(finders.find(starter[1].split("?")[0]), encoding="utf-8").read()
    assert "Redoc.init(" in text
    # ... and it starts ReDoc on this schema
    container = re.search(r'<div id="redoc-container" data-schema-url="([^"]+)"', html)
    assert container is not None and container[1] == "/api/v1/schema/"
