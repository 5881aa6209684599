import pytest

from tests.factories import ChatContactFactory, ChatRoomFactory

pytestmark = pytest.mark.django_db


def test_chat_room_changelist_queries_do_not_grow_with_rows(
    admin_client, django_assert_max_num_queries
):
    # given
    for _ in range(8):
        ChatRoomFactory(csat_score=4)

    # when
    with django_assert_max_num_queries(10):
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
