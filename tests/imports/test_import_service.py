"""import_records: chat_rooms' first_response_at and the survey_responses kind (CONTRACT §1)."""

import io
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from chats.models import ChatRoom, SurveyResponse
from tests.factories import ChatContactFactory, ContactFactory

pytestmark = pytest.mark.django_db


def run(kind: str, path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_records", kind, str(path), stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    except CommandError as error:
        code = error.returncode
        err.write(str(error))
    return code, out.getvalue(), err.getvalue()


def csv_file(tmp_path, text: str):
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_chat_rooms_first_response_and_resolution_before_opening_are_rejected(tmp_path):
    # given
    ChatContactFactory(external_id="cc-1")
    path = csv_file(
        tmp_path,
        "external_id,chat_contact_external_id,created_at,first_response_at,resolved_at\n"
        "r-1,cc-1,2026-01-10T10:00:00+07:00,2026-01-10T10:02:05.5+07:00,2026-01-10T12:00+07:00\n"
        "r-2,cc-1,2026-01-10T10:00:00+07:00,2026-01-10T09:59:59+07:00,\n"
        "r-3,cc-1,2026-01-10T10:00:00+07:00,,2026-01-10T09:00:00+07:00\n"
        "r-4,cc-1,2026-01-10T10:00:00+07:00,2026-01-10T10:00:00+07:00,2026-01-10T10:00+07:00\n",
    )

    # when
    code, out, err = run("chat_rooms", path)

    # then: equal to created_at is fine; earlier is rejected with its line and column
    assert code == 1
    assert "line 3: first_response_at: before created_at" in err
    assert "line 4: resolved_at: before created_at" in err
    assert out.strip().splitlines()[-1] == "created 2, updated 0, unchanged 0, rejected 2"
    room = ChatRoom.objects.get(external_id="r-1")
    assert room.first_response_at == datetime(2026, 1, 10, 3, 2, 5, 500000, tzinfo=UTC)
    assert (path.parent / "data.csv.rejected.csv").exists()


def test_chat_rooms_first_response_is_upserted(tmp_path):
    ChatContactFactory(external_id="cc-1")
    header = "external_id,chat_contact_external_id,created_at,first_response_at\n"
    run("chat_rooms", csv_file(tmp_path, header + "r-1,cc-1,2026-01-10T10:00+07:00,\n"))
    code, out, _ = run(
        "chat_rooms",
        csv_file(tmp_path, header + "r-1,cc-1,2026-01-10T10:00+07:00,2026-01-10T10:01+07:00\n"),
    )
    assert code == 0
    assert out.strip().splitlines()[-1] == "created 0, updated 1, unchanged 0, rejected 0"
    assert ChatRoom.objects.get().first_response_at == datetime(2026, 1, 10, 3, 1, tzinfo=UTC)


SURVEY_HEADER = (
    "external_id,kind,score,comment,created_at,contact_external_id,chat_contact_external_id\n"
)


def test_survey_responses_every_rule(tmp_path):
    # given
    ContactFactory(external_id="c-1")
    ChatContactFactory(external_id="cc-1")
    path = csv_file(
        tmp_path,
        SURVEY_HEADER
        + "s-1,nps,0,Pelayanan lambat,2026-01-10T10:00+07:00,c-1,\n"  # 2
        + "s-2,NPS,10,,2026-01-10,,cc-1\n"  # 3: kind any case
        + "s-3,ces,7,Mudah sekali,2026-01-10,,cc-1\n"  # 4
        + "s-4,nps,11,,2026-01-10,c-1,\n"  # 5: nps is 0-10
        + "s-5,ces,0,,2026-01-10,c-1,\n"  # 6: ces is 1-7
        + "s-6,ces,8,,2026-01-10,c-1,\n"  # 7
        + "s-7,csat,3,,2026-01-10,c-1,\n"  # 8: unknown kind
        + "s-8,nps,5,,2026-01-10,c-1,cc-1\n"  # 9: both records
        + "s-9,nps,5,,2026-01-10,,\n"  # 10: neither
        + "s-10,nps,5,,2026-01-10,c-404,\n"  # 11: contact not loaded
        + "s-11,nps,5,,2026-01-10,,cc-404\n"  # 12: chat contact not loaded
        + "s-12,nps,,,2026-01-10,c-1,\n"  # 13: score required
        + "s-13,nps,7.5,,2026-01-10,c-1,\n"  # 14: whole numbers only
        + "s-14,nps,7,,,c-1,\n",  # 15: created_at required
    )

    # when
    code, out, err = run("survey_responses", path)

    # then
    assert code == 1
    for expected in (
        "line 5: score: must be between 0 and 10",
        "line 6: score: must be between 1 and 7",
        "line 7: score: must be between 1 and 7",
        "line 8: kind: must be nps or ces, not 'csat'",
        "line 9: contact_external_id: give exactly one of contact_external_id and "
        "chat_contact_external_id",
        "line 10: contact_external_id: give exactly one",
        "line 11: contact_external_id: no contact with external_id 'c-404'",
        "line 12: chat_contact_external_id: no chat contact with external_id 'cc-404'",
        "line 13: score: required",
        "line 14: score: not a whole number: '7.5'",
        "line 15: created_at: required",
    ):
        assert expected in err
    assert out.strip().splitlines()[-1] == "created 3, updated 0, unchanged 0, rejected 11"
    rows = SurveyResponse.objects.order_by("external_id").values_list(
        "external_id",
        "kind",
        "score",
        "comment",
        "contact__external_id",
        "chat_contact__external_id",
    )
    assert list(rows) == [
        ("s-1", "nps", 0, "Pelayanan lambat", "c-1", None),
        ("s-2", "nps", 10, "", None, "cc-1"),
        ("s-3", "ces", 7, "Mudah sekali", None, "cc-1"),
    ]


def test_survey_response_moved_to_another_record_kind_and_reloaded_unchanged(tmp_path):
    # given
    ContactFactory(external_id="c-1")
    ChatContactFactory(external_id="cc-1")
    run("survey_responses", csv_file(tmp_path, SURVEY_HEADER + "s-1,nps,9,,2026-01-10,c-1,\n"))

    # when: the same answer now comes through the chat contact
    moved = SURVEY_HEADER + "s-1,nps,9,,2026-01-10,,cc-1\n"
    code, out, _ = run("survey_responses", csv_file(tmp_path, moved))
    again_code, again_out, _ = run("survey_responses", csv_file(tmp_path, moved))

    # then: the contact link is cleared (exactly one record), and a reload changes nothing
    assert (code, again_code) == (0, 0)
    assert out.strip().splitlines()[-1] == "created 0, updated 1, unchanged 0, rejected 0"
    assert again_out.strip().splitlines()[-1] == "created 0, updated 0, unchanged 1, rejected 0"
    response = SurveyResponse.objects.get()
    assert (response.contact_id, response.chat_contact.external_id) == (None, "cc-1")


def test_survey_file_without_a_required_column_is_refused(tmp_path):
    path = csv_file(tmp_path, "external_id,kind,created_at,contact_external_id\n")
    code, _, err = run("survey_responses", path)
    assert code == 2
    assert "score" in err
