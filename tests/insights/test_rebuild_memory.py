"""The rebuild's own work_mem (INSIGHTS_REBUILD_WORK_MEM): inside its transactions only."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from django.db import connection

from insights import families
from insights.models import RebuildRun
from insights.rebuild import insights_rebuild
from tests.factories import ContactFactory

pytestmark = [
    # As in production, the rebuild's transaction is the outermost one (SET LOCAL ends with it).
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="work_mem is a PostgreSQL setting"
    ),
]


def _work_mem() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        return cursor.fetchone()[0]


def _rebuild_seeing_work_mem() -> tuple[RebuildRun, list[str]]:
    seen: list[str] = []
    run_families = families.families_run

    def spying(*args, **kwargs):
        seen.append(_work_mem())
        return run_families(*args, **kwargs)

    with patch("insights.rebuild.families.families_run", spying):
        run = insights_rebuild(trigger="test", full=True)
    return run, seen


def test_the_rebuild_sorts_with_its_own_work_mem_and_leaves_the_sessions_alone(settings):
    # given
    settings.INSIGHTS_REBUILD_WORK_MEM = "96MB"
    ContactFactory(email="ani@x.id")
    before = _work_mem()
    assert before != "96MB"

    # when
    run, seen = _rebuild_seeing_work_mem()

    # then: the families ran with it; the setting ended with the rebuild's transaction
    assert run.status == RebuildRun.Status.SUCCEEDED
    assert seen == ["96MB"]
    assert _work_mem() == before


def test_an_empty_setting_keeps_the_servers_work_mem(settings):
    settings.INSIGHTS_REBUILD_WORK_MEM = ""
    ContactFactory(email="ani@x.id")
    before = _work_mem()

    run, seen = _rebuild_seeing_work_mem()

    assert run.status == RebuildRun.Status.SUCCEEDED
    assert seen == [before]
