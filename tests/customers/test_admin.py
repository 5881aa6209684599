import pytest

from tests.factories import CompanyFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_contact_changelist_queries_do_not_grow_with_rows(
    admin_client, django_assert_max_num_queries
):
    # given
    for n in range(8):
        ContactFactory(company=CompanyFactory(), owner=UserFactory(), email=f"a{n}@x.id")

    # when
    with django_assert_max_num_queries(10):
        response = admin_client.get("/admin/customers/contact/")

    # then
    assert response.status_code == 200
    assert response.context["cl"].result_count == 8


@pytest.mark.parametrize("term", ["+62 812-3456-7890", "62812 3456 7890", "(0812) 3456 7890"])
def test_contact_search_finds_a_phone_written_another_way(admin_client, term):
    # given
    ContactFactory(first_name="Ani", phone="0812-3456-7890")
    ContactFactory(first_name="Budi", phone="0813-0000-0000")

    # when
    response = admin_client.get("/admin/customers/contact/", {"q": term})

    # then
    assert [c.first_name for c in response.context["cl"].result_list] == ["Ani"]


def test_contact_search_by_email_ignores_case_and_name_still_matches(admin_client):
    # given
    ContactFactory(first_name="Ani", email="Ani.Wijaya@Gmail.com")
    ContactFactory(first_name="Budi", last_name="Santoso")

    # when
    by_email = admin_client.get("/admin/customers/contact/", {"q": " ANI.WIJAYA@gmail.COM "})
    by_name = admin_client.get("/admin/customers/contact/", {"q": "santoso"})

    # then
    assert [c.first_name for c in by_email.context["cl"].result_list] == ["Ani"]
    assert [c.first_name for c in by_name.context["cl"].result_list] == ["Budi"]


def test_company_changelist_and_autocomplete_load(admin_client):
    # given
    CompanyFactory(name="PT Sinar Jaya")

    # when
    listing = admin_client.get("/admin/customers/company/", {"q": "sinar"})
    autocomplete = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "customers", "model_name": "contact", "field_name": "company", "term": "Sin"},
    )

    # then
    assert listing.status_code == 200 and listing.context["cl"].result_count == 1
    assert [r["text"] for r in autocomplete.json()["results"]] == ["PT Sinar Jaya"]
