"""The benchmark's direct-SQL baseline for the service endpoint agrees with the API (PostgreSQL)."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from rest_framework.test import APIClient

from bench import direct_sql
from bench.datagen import dataset_generate
from insights.periods import Period
from insights.rebuild import insights_rebuild
from tests.factories import UserFactory

NOW = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the baseline is PostgreSQL SQL")
def test_direct_service_sql_equals_the_api_on_generated_data():
    # given: 300 generated people, resolved and rolled up
    dataset_generate(people=300, seed=5, now=NOW, chunk_people=150)
    insights_rebuild(trigger="test", full=True)
    client = APIClient()
    client.force_authenticate(UserFactory(is_superuser=True))

    for period in (
        Period(date(2026, 1, 1), date(2026, 6, 30)),
        Period(date(2026, 11, 1), date(2026, 11, 19)),
    ):
        # when
        body = client.get(
            "/api/v1/insights/service/", {"start": period.start, "end": period.end}
        ).json()

        # then
        expected = direct_sql.service(period)
        assert expected["rooms"] > 50 and expected["nps_responses"] > 0
        assert direct_sql.api_figures("service", body) == expected
