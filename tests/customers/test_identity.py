from datetime import timedelta

import pytest

from chats.models import ChatContact
from customers.identity import customer_resolve_id, snapshot_rebuild
from customers.models import Contact, Customer, CustomerAlias, MatchRule, PlaceholderKey
from tests.factories import T0, ChatContactFactory, CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


def partition() -> set[frozenset[str]]:
    """Customers as sets of record labels ("c:<external id>" CRM, "h:<external id>" chat)."""
    groups: dict[int, set[str]] = {}
    for cid, ext in Contact.objects.values_list("customer_id", "external_id"):
        groups.setdefault(cid, set()).add(f"c:{ext}")
    for cid, ext in ChatContact.objects.values_list("customer_id", "external_id"):
        groups.setdefault(cid, set()).add(f"h:{ext}")
    assert None not in groups, "every record belongs to a customer after a rebuild"
    return {frozenset(g) for g in groups.values()}


def edit(record, **changes) -> None:
    """Edit a record as a user would: from its current row (the rebuild set its customer)."""
    record.refresh_from_db()
    for field, value in changes.items():
        setattr(record, field, value)
    record.save()


def crm(ext: str, **kw) -> Contact:
    return ContactFactory(external_id=ext, **kw)


def chat(ext: str, **kw) -> ChatContact:
    return ChatContactFactory(external_id=ext, **kw)


def test_three_record_chain_phone_then_email_across_crm_and_chat():
    # given: A shares a phone with B (different formats), B shares an email with C
    crm("a", phone="0812-3456-7890")
    chat("b", phone="+62 812 3456 7890", email="Ani@X.id")
    chat("c", email="ani@x.id ")
    crm("d", email="someone@else.id")
    # when
    counts = snapshot_rebuild()
    # then
    assert partition() == {frozenset({"c:a", "h:b", "h:c"}), frozenset({"c:d"})}
    assert counts["customers"] == 2
    assert counts["created"] == 2


def test_records_without_a_usable_key_are_customers_of_their_own():
    # given: no key, an invalid email (two @), a phone that is not a possible number
    crm("a")
    crm("b", email="a@b@c.id")
    chat("c", phone="12")
    chat("d", email="@x.id")
    # when
    snapshot_rebuild()
    # then
    assert partition() == {frozenset({x}) for x in ("c:a", "c:b", "h:c", "h:d")}


def test_key_at_the_fanout_limit_merges_and_above_it_does_not(settings):
    # given: limit 3; one email on exactly 3 records, one phone on 4 records
    settings.INSIGHTS_MAX_KEY_FANOUT = 3
    for ext in ("a1", "a2"):
        crm(ext, email="shared@x.id")
    chat("a3", email="SHARED@x.id")
    for ext in ("p1", "p2", "p3"):
        crm(ext, phone="021 555 0000")
    chat("p4", phone="+62215550000")
    # when
    snapshot_rebuild()
    # then
    assert partition() == {
        frozenset({"c:a1", "c:a2", "h:a3"}),
        *({frozenset({x}) for x in ("c:p1", "c:p2", "c:p3", "h:p4")}),
    }
    assert list(PlaceholderKey.objects.values_list("key", "fanout")) == [("+62215550000", 4)]


def test_attributes_follow_record_order_with_crm_first_on_ties():
    # given: a chat and a CRM record at the same instant, an older chat with blank channel
    company = CompanyFactory(name="PT Maju")
    chat("old", channel="", email="ani@x.id", created_at=T0 - timedelta(days=1), name="")
    chat("tie", channel="Instagram", email="ani@x.id", name="ani_ig")
    crm("crm", email="ani@x.id", source="Referral", first_name="Ani", last_name="W")
    crm("co", email="ani@x.id", source="", company=company, created_at=T0 + timedelta(hours=1))
    # when
    snapshot_rebuild()
    # then: source from the first non-blank in (created_at, CRM before chat, id) order
    customer = Customer.objects.get()
    assert customer.first_seen_at == T0 - timedelta(days=1)
    assert str(customer.first_seen_date) == "2026-01-14"
    assert customer.source == "Referral"
    assert customer.company == company
    assert customer.display_name == "Ani W"
    assert customer.primary_email == "ani@x.id"
    assert customer.record_count == 4


def test_customer_without_source_or_company_gets_other_and_no_company():
    # given
    crm("a", phone="081234567890", source="")
    # when
    snapshot_rebuild()
    # then
    customer = Customer.objects.get()
    assert (customer.source, customer.company_id) == ("Other", None)
    assert customer.primary_phone == "+6281234567890"


def test_merge_keeps_the_older_id_and_aliases_the_other():
    # given: two customers
    a = crm("a", email="a@x.id")
    b = chat("b", phone="0811111111")
    snapshot_rebuild()
    a.refresh_from_db()
    b.refresh_from_db()
    old_a, old_b = a.customer_id, b.customer_id
    assert old_a < old_b
    # when: b learns a's email
    edit(b, email="A@x.id")
    counts = snapshot_rebuild()
    # then
    assert set(Customer.objects.values_list("id", flat=True)) == {old_a}
    assert CustomerAlias.objects.get().customer_id == old_a
    assert customer_resolve_id(customer_id=old_b) == old_a
    assert customer_resolve_id(customer_id=old_a) == old_a
    assert customer_resolve_id(customer_id=old_b + 100) is None
    assert counts["merged"] == 1
    assert counts["full"] == 0


def test_alias_follows_a_second_merge():
    # given: three customers; 2 merged into 1 earlier
    a = crm("a", email="a@x.id")
    b = crm("b", email="b@x.id")
    c = crm("c", email="c@x.id")
    snapshot_rebuild()
    ids = [Contact.objects.get(pk=r.pk).customer_id for r in (a, b, c)]
    edit(b, email="a@x.id")
    snapshot_rebuild()
    # when: c joins the survivor
    edit(c, email="a@x.id")
    snapshot_rebuild()
    # then
    assert dict(CustomerAlias.objects.values_list("alias_id", "customer_id")) == {
        ids[1]: ids[0],
        ids[2]: ids[0],
    }


def test_survivor_alias_is_repointed_when_the_survivor_merges_away():
    # given: customers 1 < 2 < 3; 3 merges into 2, then 2 merges into 1
    a = crm("a", email="a@x.id")
    b = crm("b", email="b@x.id")
    c = crm("c", email="c@x.id")
    snapshot_rebuild()
    ids = [Contact.objects.get(pk=r.pk).customer_id for r in (a, b, c)]
    edit(c, phone="0811111111")
    edit(b, phone="0811111111")
    snapshot_rebuild()
    # when
    edit(a, phone="0811111111")
    snapshot_rebuild()
    # then
    assert dict(CustomerAlias.objects.values_list("alias_id", "customer_id")) == {
        ids[1]: ids[0],
        ids[2]: ids[0],
    }
    assert customer_resolve_id(customer_id=ids[2]) == ids[0]


def test_split_keeps_the_id_with_the_oldest_record():
    # given: one customer of three records joined through b
    crm("a", email="a@x.id", created_at=T0 + timedelta(hours=2))
    b = chat("b", email="a@x.id", phone="0811111111", created_at=T0)
    crm("c", phone="0811111111", created_at=T0 + timedelta(hours=1))
    snapshot_rebuild()
    old_id = Customer.objects.get().pk
    # when: b loses its email; a separates from {b, c}
    edit(b, email="")
    snapshot_rebuild()
    # then: {b, c} holds the oldest record (b) and keeps the id
    assert Contact.objects.get(external_id="c").customer_id == old_id
    new = Contact.objects.get(external_id="a").customer
    assert new.pk > old_id
    assert new.first_seen_at == T0 + timedelta(hours=2)
    assert Customer.objects.get(pk=old_id).record_count == 2


def test_deleted_records_shrink_or_remove_their_customer():
    # given
    a = crm("a", email="a@x.id", created_at=T0)
    b = chat("b", email="a@x.id", created_at=T0 + timedelta(days=2), channel="Instagram")
    lone = crm("lone")
    snapshot_rebuild()
    customer_id = Contact.objects.get(pk=a.pk).customer_id
    lone_id = Contact.objects.get(pk=lone.pk).customer_id
    # when
    a.delete()
    lone.delete()
    counts = snapshot_rebuild()
    # then
    customer = Customer.objects.get()
    assert customer.pk == customer_id
    assert (customer.record_count, customer.first_seen_at) == (1, b.created_at)
    assert customer.source == "Instagram"
    assert not Customer.objects.filter(pk=lone_id).exists()
    assert counts["deleted"] == 1


def test_never_and_always_rules_survive_rebuilds(admin_user):
    # given: a and b share a phone (never merge them); c and d share nothing (always merge)
    a = crm("a", phone="0811111111")
    b = chat("b", phone="0811111111", email="b@x.id")
    e = crm("e", email="b@x.id")
    c = crm("c")
    d = chat("d")
    MatchRule.objects.create(kind="never", contact_a=a, chat_contact_b=b, created_by=admin_user)
    MatchRule.objects.create(kind="always", contact_a=c, chat_contact_b=d)
    expected = {
        frozenset({"c:a"}),
        frozenset({"h:b", "c:e"}),
        frozenset({"c:c", "h:d"}),
    }
    # when / then: full and incremental runs keep the rules
    snapshot_rebuild()
    assert partition() == expected
    snapshot_rebuild(full=True)
    assert partition() == expected
    edit(e, first_name="renamed")
    snapshot_rebuild()
    assert partition() == expected


def test_removing_a_never_rule_merges_on_the_next_incremental_run():
    # given
    a = crm("a", phone="0811111111")
    b = chat("b", phone="0811111111")
    rule = MatchRule.objects.create(kind="never", contact_a=a, chat_contact_b=b)
    snapshot_rebuild()
    assert len(partition()) == 2
    # when
    rule.delete()
    counts = snapshot_rebuild()
    # then
    assert partition() == {frozenset({"c:a", "h:b"})}
    assert counts["full"] == 0


def test_never_rule_keeps_the_rest_of_a_chain_together():
    # given: a - b by phone, b - c by email, c - a by nothing; never(a, c)
    a = crm("a", phone="0811111111", created_at=T0)
    chat("b", phone="0811111111", email="b@x.id", created_at=T0 + timedelta(hours=1))
    c = crm("c", email="b@x.id", created_at=T0 + timedelta(hours=2))
    MatchRule.objects.create(kind="never", contact_a=a, contact_b=c)
    # when
    snapshot_rebuild()
    # then: keys are taken in key order ("+62..." < "b@x.id"): the phone joins a and b first
    assert partition() == {frozenset({"c:a", "h:b"}), frozenset({"c:c"})}


def test_rebuild_over_unchanged_data_writes_nothing():
    # given
    crm("a", email="a@x.id")
    chat("b", email="a@x.id")
    crm("c")
    snapshot_rebuild()
    before = list(Customer.objects.values_list("id", "updated_at"))
    # when
    full = snapshot_rebuild(full=True)
    incremental = snapshot_rebuild()
    # then
    assert list(Customer.objects.values_list("id", "updated_at")) == before
    for counts in (full, incremental):
        assert (counts["changed"], counts["updated"], counts["created"]) == (0, 0, 0)
        assert (counts["merged"], counts["deleted"]) == (0, 0)


def test_incremental_equals_full_after_mixed_edits(settings):
    # given: a resolved snapshot, then edits that merge, split, cross the limit and add records
    settings.INSIGHTS_MAX_KEY_FANOUT = 3
    crm("a", email="a@x.id", phone="0811111111")
    b = chat("b", phone="0811111111")
    crm("c", email="c@x.id")
    for ext in ("p1", "p2", "p3"):
        chat(ext, email="shop@x.id")
    snapshot_rebuild(full=True)
    edit(b, phone="0822222222")
    crm("d", email="c@x.id", phone="0822222222")
    crm("p4", email="shop@x.id")
    # when
    counts = snapshot_rebuild()
    incremental = partition()
    ids = dict(Contact.objects.values_list("external_id", "customer_id"))
    snapshot_rebuild(full=True)
    # then
    assert counts["full"] == 0
    assert incremental == partition()
    assert dict(Contact.objects.values_list("external_id", "customer_id")) == ids
    assert incremental == {
        frozenset({"c:a"}),
        frozenset({"h:b", "c:c", "c:d"}),
        *({frozenset({x}) for x in ("h:p1", "h:p2", "h:p3", "c:p4")}),
    }


def test_attribute_edits_reach_the_customer_on_an_incremental_run():
    # given
    company = CompanyFactory(name="PT Baru")
    contact = crm("a", email="a@x.id", source="Ads")
    snapshot_rebuild()
    # when: no key changes, only what the customer shows
    edit(contact, source="Referral", company=company, first_name="Ani", last_name="")
    counts = snapshot_rebuild()
    # then
    customer = Customer.objects.get()
    assert (customer.source, customer.company, customer.display_name) == (
        "Referral",
        company,
        "Ani",
    )
    assert (counts["full"], counts["updated"]) == (0, 1)


def test_mass_write_sets_indexes_and_keys_aside_and_restores_them(monkeypatch):
    # given: thresholds low enough that a tiny first run counts as a mass write
    from django.db import connection

    from customers import identity

    if connection.vendor != "postgresql":
        pytest.skip("indexes are set aside on PostgreSQL only")
    monkeypatch.setattr(identity, "BULK_INDEX_MIN_ROWS", 1)
    crm("a", email="a@x.id", company=CompanyFactory())
    chat("b", email="a@x.id")

    def indexes() -> list[tuple[str, str]]:
        tables = "('customers_contact', 'chats_chatcontact', 'customers_customer')"
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN {tables} "
                "UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                f"WHERE contype = 'f' AND conrelid::regclass::text IN {tables} ORDER BY 1"
            )
            return cur.fetchall()

    before = indexes()
    # when
    snapshot_rebuild(full=True)
    # then
    assert indexes() == before
    assert partition() == {frozenset({"c:a", "h:b"})}


def test_saving_a_stale_instance_keeps_the_record_with_its_customer():
    # given: an instance loaded before the rebuild gave the record its customer
    contact = crm("a", email="a@x.id")
    snapshot_rebuild()
    customer_id = Contact.objects.get(pk=contact.pk).customer_id
    # when: it is edited and saved without reloading
    contact.phone = "0811111111"
    contact.save()
    counts = snapshot_rebuild()
    # then
    assert Contact.objects.get(pk=contact.pk).customer_id == customer_id
    assert Customer.objects.get().primary_phone == "+62811111111"
    assert counts["created"] == 0
