"""accounts.masking: the masked forms of names, emails and phones."""

import pytest

from accounts.masking import can_see_personal_data, mask_email, mask_name, mask_phone
from tests.factories import UserFactory


def test_mask_email_keeps_first_letter_and_domain():
    # given / when / then
    assert mask_email("ani@x.id") == "a***@x.id"
    assert mask_email("  Budi.Santoso@Example.com") == "B***@Example.com"
    assert mask_email("") == ""


def test_mask_email_of_a_non_email_masks_it_whole():
    # given / when / then
    assert mask_email("ani wijaya") == "a** w*****"


def test_mask_phone_keeps_country_code_first_three_and_last_four_national_digits():
    # given / when / then
    assert mask_phone("+6281234567890") == "+62 812 **** 7890"
    assert mask_phone("0812-3456-7890") == "+62 812 **** 7890"  # national format, Indonesia
    assert mask_phone("+44 20 7946 0958") == "+44 207 **** 0958"
    assert mask_phone("") == ""


def test_mask_phone_of_garbage_keeps_at_most_the_last_four_digits():
    # given / when / then
    assert mask_phone("call me") == "****"
    assert mask_phone("+999 12345678") == "**** 5678"  # no such country code


def test_mask_phone_of_a_short_number_shows_at_most_two_digits():
    # given / when / then
    assert mask_phone("+62 21 555") == "+62 ****"  # 5 national digits
    assert mask_phone("+62 21 5550") == "+62 **** 50"  # 6


def test_mask_name_keeps_each_words_first_letter():
    # given / when / then
    assert mask_name("Ani Wijaya") == "A** W*****"
    assert mask_name("Ani") == "A**"
    assert mask_name("") == ""


@pytest.mark.django_db
def test_can_see_personal_data_needs_the_permission_or_superuser():
    # given
    plain = UserFactory(username="plain")
    boss = UserFactory(username="boss", is_superuser=True)

    # when / then
    assert can_see_personal_data(plain) is False
    assert can_see_personal_data(boss) is True
    assert can_see_personal_data(None) is False
