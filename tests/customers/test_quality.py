"""customers/quality.py: the filter and the per-row annotation name the same records."""

import pytest

from customers.identity import snapshot_rebuild
from customers.models import Contact, PlaceholderKey
from customers.quality import (
    BAD_EMAIL,
    BAD_PHONE,
    NO_USABLE_KEY,
    PROBLEMS,
    problem_q,
    problems_annotate,
)
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_problem_q_and_problems_annotate_agree(settings):
    # given records with each problem, two at once, none, and two carriers of a placeholder
    settings.INSIGHTS_MAX_KEY_FANOUT = 1
    records = {
        "bad phone": ContactFactory(phone="12", email="ok@x.id"),
        "bad email": ContactFactory(email="not-an-email", phone="0812 3456 7890"),
        "nothing": ContactFactory(),
        "both bad": ContactFactory(phone="12", email="nope"),
        "fine": ContactFactory(email="fine@x.id"),
        "shop 1": ContactFactory(phone="021 555 0000"),
        "shop 2": ContactFactory(phone="021 555 0000"),
    }
    snapshot_rebuild()
    placeholders = set(PlaceholderKey.objects.values_list("key", flat=True))

    # when
    annotated = problems_annotate(Contact.objects.all())
    in_memory = {
        name: [
            label
            for problem, label in PROBLEMS.items()
            if getattr(annotated.get(pk=record.pk), f"problem_{problem}")
        ]
        for name, record in records.items()
    }
    by_q = {
        problem: set(Contact.objects.filter(problem_q(problem)).values_list("pk", flat=True))
        for problem in (NO_USABLE_KEY, BAD_PHONE, BAD_EMAIL)
    }

    # then: the hand-written problems, and each Q selects exactly the records listing it
    assert placeholders == {"+62215550000"}
    assert in_memory == {
        "bad phone": [PROBLEMS[BAD_PHONE]],
        "bad email": [PROBLEMS[BAD_EMAIL]],
        "nothing": [PROBLEMS[NO_USABLE_KEY]],
        "both bad": [PROBLEMS[NO_USABLE_KEY], PROBLEMS[BAD_PHONE], PROBLEMS[BAD_EMAIL]],
        "fine": [],
        "shop 1": [PROBLEMS[NO_USABLE_KEY]],
        "shop 2": [PROBLEMS[NO_USABLE_KEY]],
    }
    for problem, pks in by_q.items():
        listing = {records[n].pk for n, found in in_memory.items() if PROBLEMS[problem] in found}
        assert pks == listing, problem
