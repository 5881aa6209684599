"""Properties of identity resolution over small random record sets (Hypothesis)."""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chats.models import ChatContact
from customers.identity import snapshot_rebuild
from customers.models import Contact, Customer, CustomerAlias
from tests.factories import T0

pytestmark = pytest.mark.django_db

EMAILS = ["", "", "a@x.id", "A@X.id", "b@x.id", "c@x.id", "bad@", "d@x.id"]
PHONES = ["", "", "0811111111", "+62 811 111 111", "0822222222", "62833333333", "12", "0844"]

record = st.tuples(
    st.sampled_from(["crm", "chat"]),
    st.sampled_from(EMAILS),
    st.sampled_from(PHONES),
    st.integers(min_value=0, max_value=3),  # hours after T0: ties are common
)
records = st.lists(record, min_size=1, max_size=12)
PROPERTY = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def reset() -> None:
    Contact.objects.all().delete()
    ChatContact.objects.all().delete()
    Customer.objects.all().delete()
    CustomerAlias.objects.all().delete()


def load(rows, order) -> None:
    for i in order:
        kind, email, phone, hours = rows[i]
        model = Contact if kind == "crm" else ChatContact
        extra = {} if kind == "crm" else {"channel": "WhatsApp"}
        model.objects.create(
            external_id=f"{kind}-{i}",
            email=email,
            phone=phone,
            created_at=T0 + timedelta(hours=hours),
            **extra,
        )


def partition() -> set[frozenset[str]]:
    groups: dict[int, set[str]] = {}
    for model in (Contact, ChatContact):
        for cid, ext in model.objects.values_list("customer_id", "external_id"):
            groups.setdefault(cid, set()).add(ext)
    return {frozenset(g) for g in groups.values()}


def state() -> tuple:
    return (
        sorted(Customer.objects.values_list()),
        sorted(Contact.objects.values_list("id", "customer_id")),
        sorted(ChatContact.objects.values_list("id", "customer_id")),
        sorted(CustomerAlias.objects.values_list("alias_id", "customer_id")),
    )


@PROPERTY
@given(rows=records, data=st.data())
def test_partition_does_not_depend_on_load_order(rows, data):
    # given: the same records loaded in two orders
    reset()
    load(rows, range(len(rows)))
    snapshot_rebuild()
    first = partition()
    shuffled = data.draw(st.permutations(range(len(rows))))
    reset()
    load(rows, shuffled)
    # when
    snapshot_rebuild()
    # then
    assert partition() == first


@PROPERTY
@given(rows=records)
def test_rebuild_over_unchanged_data_changes_nothing(rows):
    # given
    reset()
    load(rows, range(len(rows)))
    snapshot_rebuild()
    before = state()
    # when
    full = snapshot_rebuild(full=True)
    incremental = snapshot_rebuild()
    # then
    assert state() == before
    for counts in (full, incremental):
        assert [counts[k] for k in ("changed", "created", "merged", "deleted", "updated")] == [
            0,
            0,
            0,
            0,
            0,
        ]


@PROPERTY
@given(rows=records, edits=st.lists(st.tuples(st.integers(0, 11), record), max_size=4))
def test_full_run_after_an_incremental_one_changes_nothing(rows, edits):
    # given: a resolved snapshot, then some records edited or deleted
    reset()
    load(rows, range(len(rows)))
    snapshot_rebuild(full=True)
    for index, (kind, email, phone, _) in edits:
        model = Contact if rows[index % len(rows)][0] == "crm" else ChatContact
        target = model.objects.filter(external_id__endswith=f"-{index % len(rows)}").first()
        if target is None:
            continue
        if kind == "chat" and email == "":
            target.delete()
        else:
            target.email, target.phone = email, phone
            target.save()
    # when
    snapshot_rebuild()
    after_incremental = state()
    counts = snapshot_rebuild(full=True)
    # then: the full run agrees with the incremental one, ids included
    assert state() == after_incremental
    assert counts["changed"] == 0 and counts["created"] == 0
