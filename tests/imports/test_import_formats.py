"""The import page teaches its format (issue 32 item 9): every kind's columns with an example,
a template to download, and the README's table; the examples themselves load cleanly."""

import csv
import io
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission

from deals.models import Deal, DealChange, ExchangeRate, SalesTarget
from imports.formats import EXAMPLES, kind_format, readme_table, template_csv
from imports.kinds import KINDS
from tests.factories import UserFactory
from tests.imports.test_import_records import run

pytestmark = pytest.mark.django_db
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_column_of_every_kind_has_an_example(kind):
    form = kind_format(kind)
    assert set(EXAMPLES[kind]) == set(form.columns)
    assert all(EXAMPLES[kind][column] for column in form.required)


def test_the_examples_load_in_order_without_a_rejection(tmp_path):
    # given: the owner the examples name
    UserFactory(username="budi")
    # when: each kind's template, in the order of the list
    results = {}
    for kind in KINDS:
        path = tmp_path / f"{kind}.csv"
        path.write_text(template_csv(kind), encoding="utf-8")
        results[kind] = run(kind, path)
    # then
    for kind, (code, out, err) in results.items():
        assert code == 0, (kind, err)
        assert "rejected 0" in out.strip().splitlines()[-1], (kind, out)
    deal = Deal.objects.get(external_id="D-1")
    assert deal.items.count() == 1 and deal.owner.username == "budi"
    assert ExchangeRate.objects.filter(currency="USD").exists()
    assert SalesTarget.objects.filter(owner__username="budi").exists()
    assert DealChange.objects.filter(deal=deal, source="imported").exists()


def test_the_template_is_the_header_and_the_example(client):
    # given
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_company", "change_company"])
    )
    client.force_login(user)
    # when
    response = client.get("/admin/import/template/companies.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    # then
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="companies-template.csv"'
    assert rows == [
        ["external_id", "name", "industry", "created_at"],
        ["CO-1", "PT Maju Jaya", "Retail", "2026-01-05T09:00:00+07:00"],
    ]
    # a kind the user may not import has no template for them
    assert client.get("/admin/import/template/deals.csv").status_code == 404


def test_the_page_shows_the_columns_of_each_kind_it_offers(admin_client):
    # when
    html = admin_client.get("/admin/import/").content.decode()
    # then
    for kind in KINDS:
        assert f'id="format-{kind}"' in html
        assert f'href="/admin/import/template/{kind}.csv"' in html
    assert '<th scope="col"><strong>external_id</strong></th>' in html
    assert "2026-12-31T14:30:00" in html  # the timestamp format, with an example


def test_the_readme_lists_the_columns_of_every_kind():
    assert readme_table() in README.read_text(encoding="utf-8")
