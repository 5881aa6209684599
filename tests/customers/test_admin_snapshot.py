from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from customers.identity import snapshot_rebuild
from customers.models import Contact, Customer, MatchRule
from tests.factories import (
    T0,
    ChatContactFactory,
    CompanyFactory,
    ContactFactory,
    DealFactory,
)

pytestmark = pytest.mark.django_db
LIST = "/admin/customers/customer/"


def listed(response) -> list[int]:
    return sorted(obj.pk for obj in response.context["cl"].result_list)


def customer_of(record) -> int:
    return type(record).objects.get(pk=record.pk).customer_id


@pytest.fixture
def snapshot():
    """Three customers: Ani (CRM + chat, Referral, PT Maju, a deal), Budi (chat), Citra (CRM)."""
    company = CompanyFactory(name="PT Maju")
    ani = ContactFactory(
        first_name="Ani", last_name="W", phone="0812-3456-7890", source="Referral", company=company
    )
    ChatContactFactory(phone="+62 812 3456 7890", email="ani@x.id", channel="WhatsApp")
    budi = ChatContactFactory(name="Budi", channel="Instagram", created_at=T0 + timedelta(days=3))
    citra = ContactFactory(first_name="Citra", last_name="", source="", email="citra@x.id")
    DealFactory(contact=ani)
    snapshot_rebuild()
    return {
        "ani": customer_of(ani),
        "budi": customer_of(budi),
        "citra": customer_of(citra),
        "company": company,
    }


def test_drilldown_querystring_filters_the_customer_list(admin_client, snapshot):
    # given
    s = snapshot
    cases = {
        "source=Referral": [s["ani"]],
        "source=Other": [s["citra"]],
        f"company={s['company'].pk}": [s["ani"]],
        "company=none": [s["budi"], s["citra"]],
        "has_deals=yes": [s["ani"]],
        "has_deals=no": [s["budi"], s["citra"]],
        "first_seen_from=2026-01-16&first_seen_to=2026-01-31": [s["budi"]],
        "first_seen_to=2026-01-15&source=Instagram": [],
    }
    for query, expected in cases.items():
        # when
        response = admin_client.get(f"{LIST}?{query}")
        # then
        assert response.status_code == 200, query
        assert listed(response) == sorted(expected), query


def test_bad_drilldown_value_is_refused_not_ignored(admin_client, snapshot):
    # when
    response = admin_client.get(f"{LIST}?first_seen_from=yesterday&source=Referral")
    # then: back to the list without the bad filter, with a message naming it
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?source=Referral"
    shown = [str(m) for m in admin_client.get(response["Location"]).context["messages"]]
    assert shown == ["Filter first_seen_from: a date YYYY-MM-DD"]


def test_search_finds_a_customer_by_phone_in_another_format_and_by_email(admin_client, snapshot):
    # when / then
    for term in ("(0812) 3456 7890", "62.812.3456.7890", "ANI@x.id", "Citra"):
        response = admin_client.get(LIST, {"q": term})
        expected = [snapshot["citra"]] if term == "Citra" else [snapshot["ani"]]
        assert listed(response) == expected, term


def test_customer_list_runs_a_fixed_number_of_queries(
    admin_client, snapshot, django_assert_max_num_queries
):
    # given: more customers must not mean more queries
    ContactFactory.create_batch(5, company=snapshot["company"])
    snapshot_rebuild()
    # when / then
    with django_assert_max_num_queries(12):
        response = admin_client.get(LIST)
    assert len(response.context["cl"].result_list) == 8


def test_change_page_shows_records_and_the_explanation(admin_client, snapshot):
    # when
    response = admin_client.get(reverse("admin:customers_customer_change", args=[snapshot["ani"]]))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "+6281234567890" in html
    assert "CRM contact" in html and "chat contact" in html
    assert "—phone +6281234567890→" in html


def test_merged_away_id_redirects_to_the_survivor(admin_client, snapshot):
    # given: Citra's email reaches Budi's record: the newer id merges into the older one
    budi = ChatContactFactory._meta.model.objects.get(customer_id=snapshot["budi"])
    budi.email = "citra@x.id"
    budi.save()
    snapshot_rebuild()
    assert snapshot["citra"] < snapshot["budi"]
    survivor = reverse("admin:customers_customer_change", args=[snapshot["citra"]])
    merged = snapshot["budi"]
    # when
    via_change = admin_client.get(reverse("admin:customers_customer_change", args=[merged]))
    via_resolve = admin_client.get(reverse("admin:customers_customer_resolve", args=[merged]))
    unknown = admin_client.get(reverse("admin:customers_customer_resolve", args=[9999]))
    # then
    assert (via_change.status_code, via_change["Location"]) == (302, survivor)
    assert (via_resolve.status_code, via_resolve["Location"]) == (302, survivor)
    assert unknown.status_code == 404


def test_match_rule_made_in_admin_records_who_and_when(admin_client, admin_user):
    # given
    a = ContactFactory(phone="0811111111")
    b = ContactFactory(phone="0811111111")
    # when
    response = admin_client.post(
        reverse("admin:customers_matchrule_add"),
        {"kind": "never", "contact_a": a.pk, "contact_b": b.pk, "note": "siblings"},
    )
    snapshot_rebuild()
    # then
    assert response.status_code == 302
    rule = MatchRule.objects.get()
    assert rule.created_by == admin_user
    assert rule.created_at is not None
    assert customer_of(a) != customer_of(b)


def test_match_rule_needs_one_record_per_side(admin_client):
    # given
    a = ContactFactory()
    chat = ChatContactFactory()
    # when
    response = admin_client.post(
        reverse("admin:customers_matchrule_add"),
        {"kind": "always", "contact_a": a.pk, "chat_contact_a": chat.pk, "contact_b": a.pk},
    )
    # then
    assert response.status_code == 200
    assert not MatchRule.objects.exists()


def test_data_quality_lists_records_a_rep_can_fix(admin_client, settings):
    # given
    settings.INSIGHTS_MAX_KEY_FANOUT = 2
    bad_phone = ContactFactory(phone="12", email="ok@x.id")
    no_key = ContactFactory()
    shop = [ContactFactory(phone="021 555 0000") for _ in range(3)]
    ContactFactory(email="fine@x.id")
    snapshot_rebuild()
    url = reverse("admin:customers_contacttofix_changelist")
    # when
    everything = admin_client.get(url)
    bad_phones = admin_client.get(url, {"problem": "bad_phone"})
    carriers = admin_client.get(url, {"key": "+62215550000"})
    placeholders = admin_client.get(reverse("admin:customers_placeholderkey_changelist"))
    # then
    assert listed(everything) == sorted([bad_phone.pk, no_key.pk, *(c.pk for c in shop)])
    assert listed(bad_phones) == [bad_phone.pk]
    assert listed(carriers) == sorted(c.pk for c in shop)
    assert "+62215550000" in placeholders.content.decode()
    assert reverse("admin:customers_contact_change", args=[bad_phone.pk]) in (
        bad_phones.content.decode()
    )
    assert Contact.objects.count() == 6 and Customer.objects.count() == 6


def test_change_page_shows_record_times_in_local_time(admin_client, snapshot):
    # given: a record created at 01:44 UTC is 08:44 in Jakarta

    contact = Contact.objects.filter(customer_id=snapshot["ani"]).first()
    Contact.objects.filter(pk=contact.pk).update(
        created_at=datetime(2025, 7, 20, 1, 44, tzinfo=UTC)
    )

    # when
    url = reverse("admin:customers_customer_change", args=[snapshot["ani"]])
    html = admin_client.get(url).content.decode()

    # then
    assert "2025-07-20 08:44" in html
    assert "+00:00" not in html


def test_explanation_is_translated_for_display(admin_client, snapshot):
    # given
    admin_client.cookies["django_language"] = "id"

    # when
    url = reverse("admin:customers_customer_change", args=[snapshot["ani"]])
    html = admin_client.get(url).content.decode()

    # then
    assert "—telepon +6281234567890→" in html
    assert "kontak CRM" in html
