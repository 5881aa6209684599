import pytest
from django.urls import reverse

from customers.identity import snapshot_rebuild
from tests.factories import ChatContactFactory, ChatRoomFactory

pytestmark = pytest.mark.django_db


def test_chat_room_changelist_queries_do_not_grow_with_rows(
    admin_client, django_assert_max_num_queries
):
    # given
    for _ in range(8):
        ChatRoomFactory(csat_score=4)

    # when
    # (a fixed number: session, user, the agent filter's cached choices, the page and its count)
    with django_assert_max_num_queries(14):
        response = admin_client.get("/admin/chats/chatroom/")

    # then
    assert response.status_code == 200
    assert response.context["cl"].result_count == 8


def test_chat_contact_search_by_phone_in_another_format(admin_client):
    # given
    ChatContactFactory(name="Ani", phone="+62 812 3456 7890")
    ChatContactFactory(name="Budi", phone="+62 813 1111 2222")

    # when
    response = admin_client.get("/admin/chats/chatcontact/", {"q": "0812-3456-7890"})

    # then
    assert [c.name for c in response.context["cl"].result_list] == ["Ani"]


def test_chat_contacts_to_fix_are_listed_under_chats(admin_client, settings):
    # given: one chat contact whose phone does not parse, one fine, and a placeholder phone
    settings.INSIGHTS_MAX_KEY_FANOUT = 1
    bad = ChatContactFactory(name="Ani", phone="12")
    ChatContactFactory(name="Budi", phone="+62 813 1111 2222")
    shared = [ChatContactFactory(phone="021 555 0000") for _ in range(2)]
    snapshot_rebuild()
    url = reverse("admin:chats_chatcontacttofix_changelist")

    # when
    bad_phones = admin_client.get(url, {"problem": "bad_phone"})
    placeholders = admin_client.get(reverse("admin:customers_placeholderkey_changelist"))

    # then: the list and its links moved with the model to the chats app
    assert [c.pk for c in bad_phones.context["cl"].result_list] == [bad.pk]
    assert reverse("admin:chats_chatcontact_change", args=[bad.pk]) in bad_phones.content.decode()
    assert f"{url}?key=%2B62215550000" in placeholders.content.decode()
    carriers = admin_client.get(url, {"key": "+62215550000"})
    assert sorted(c.pk for c in carriers.context["cl"].result_list) == sorted(c.pk for c in shared)
