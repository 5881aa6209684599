"""The API's one error shape: {"errors": {"<param>": ["<message>", ...]}} at any nesting."""

from rest_framework import exceptions

from insights.api.errors import api_exception_handler


def errors_of(detail) -> dict:
    response = api_exception_handler(exceptions.ValidationError(detail), {})
    assert response is not None and response.status_code == 400
    return response.data["errors"]


def test_flat_errors_stay_as_they_are():
    assert errors_of({"start": ["Enter a date."]}) == {"start": ["Enter a date."]}


def test_a_nested_dict_becomes_dotted_names():
    detail = {"filters": {"city": ["Too long."], "product": {"id": ["Unknown."]}}}
    assert errors_of(detail) == {"filters.city": ["Too long."], "filters.product.id": ["Unknown."]}


def test_per_item_errors_of_a_list_are_numbered_and_empty_items_dropped():
    detail = {"items": [{}, {"quantity": ["Must be positive."]}]}
    assert errors_of(detail) == {"items.1.quantity": ["Must be positive."]}


def test_a_bare_message_or_list_is_non_field_errors():
    assert errors_of("Nope.") == {"non_field_errors": ["Nope."]}
    assert errors_of(["One.", "Two."]) == {"non_field_errors": ["One.", "Two."]}
