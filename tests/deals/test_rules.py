"""deals/rules.py: the Python predicate, the Q objects and the SQL CASE agree on the same rows."""

import pytest
from django.db import connection

from customers.models import Contact
from deals import rules
from deals.models import Deal
from tests.factories import ContactFactory, DealFactory, LostReasonFactory, StageFactory

pytestmark = pytest.mark.django_db

# (stage outcome, stage default probability, deal probability) -> status, by METRICS.md section 3
CASES = [
    ("open", 40, None, "open"),
    ("open", 40, 99, "open"),
    ("open", 40, 100, "won"),  # the deal's own 100 wins an open stage
    ("open", 100, None, "won"),  # no own probability: the stage's default 100
    ("open", 100, 0, "open"),  # its own 0 overrides the stage's 100
    ("won", 100, 10, "won"),  # a won stage wins whatever the probability
    ("won", 0, None, "won"),
    ("lost", 0, 100, "lost"),  # lost beats a probability of 100
    ("lost", 100, None, "lost"),
]


@pytest.mark.parametrize(("outcome", "default", "own", "status"), CASES)
def test_python_predicate(outcome, default, own, status):
    assert (
        rules.deal_status(
            stage_outcome=outcome, stage_default_win_probability=default, win_probability=own
        )
        == status
    )


def _deals_of_every_case() -> dict[int, str]:
    reason = LostReasonFactory()
    expected = {}
    for i, (outcome, default, own, status) in enumerate(CASES):
        stage = StageFactory(name=f"S{i}", outcome=outcome, default_win_probability=default)
        deal = DealFactory(
            stage=stage,
            contact=ContactFactory(),
            win_probability=own,
            lost_reason=reason if outcome == "lost" else None,
        )
        expected[deal.pk] = status
    return expected


def test_q_objects_and_sql_agree_with_the_predicate():
    # given one deal per case
    expected = _deals_of_every_case()

    # when each form classifies them
    by_q = {
        status: set(Deal.objects.filter(q).values_list("pk", flat=True))
        for status, q in (
            ("won", rules.won_q()),
            ("lost", rules.lost_q()),
            ("open", rules.open_q()),
        )
    }
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.id, {rules.status_sql(deal='d', stage='s')} "
            "FROM deals_deal d JOIN deals_pipelinestage s ON s.id = d.stage_id"
        )
        by_sql = dict(cursor.fetchall())
    by_model = {deal.pk: deal.status for deal in Deal.objects.select_related("stage")}

    # then all three give the hand-written status of every row
    assert by_sql == expected
    assert by_model == expected
    for status in ("won", "lost", "open"):
        assert by_q[status] == {pk for pk, s in expected.items() if s == status}, status


def test_q_prefix_reaches_deals_from_a_contact():
    # given one contact per case, each with its one deal
    expected = _deals_of_every_case()
    contact_of = dict(Deal.objects.values_list("pk", "contact_id"))

    # when contacts are filtered through the relation
    found = set(Contact.objects.filter(rules.won_q("deals__")).values_list("pk", flat=True))

    # then exactly the contacts of the won deals match (4 of the 9 cases)
    assert found == {contact_of[pk] for pk, status in expected.items() if status == "won"}
    assert len(found) == 4


def test_sql_refuses_an_alias_that_is_not_an_identifier():
    with pytest.raises(ValueError, match="plain identifiers"):
        rules.status_sql(deal="d; DROP TABLE x", stage="s")
