"""Issue 27 item 1: the Import CSV page applies the admin forms' owner scoping, row by row.

A sales rep (who cannot open another rep's deal in the admin) must not overwrite, take or probe
another rep's records through a file; `manage.py import_records` keeps its full rights.
"""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from accounts.roles import SALES_REP
from chats.models import SurveyResponse
from customers.models import Contact
from deals.models import Deal, DealItem, LostReason, PipelineStage
from imports import jobs as import_jobs
from tests.factories import (
    ChatContactFactory,
    ContactFactory,
    DealFactory,
    DealItemFactory,
    ProductFactory,
    StageFactory,
    SurveyResponseFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DEALS_HEADER = "external_id,name,stage,amount,created_at"
CONTACTS_HEADER = "external_id,first_name,email,created_at"


@pytest.fixture(autouse=True)
def _import_dir(settings, tmp_path):
    settings.WAWASAN_IMPORT_DIR = tmp_path


def _member(group: str, username: str):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def reps():
    rita = _member(SALES_REP, "rita")
    sam = _member(SALES_REP, "sam")
    StageFactory(name="Proposal")
    StageFactory(name="Won", outcome=PipelineStage.Outcome.WON, default_win_probability=100)
    return rita, sam


def _run(user, kind: str, text: str, *, confirm: bool = True):
    """The page's path: a dry run, then (confirm=True) its confirmed import."""
    upload = SimpleUploadedFile(f"{kind}.csv", text.encode())
    dry_run = import_jobs.import_job_run(
        job_id=import_jobs.import_job_create(user=user, kind=kind, upload=upload).pk
    )
    if not confirm:
        return dry_run
    return import_jobs.import_job_run(
        job_id=import_jobs.import_job_confirm(job=dry_run, user=user).pk
    )


def _counts(job) -> tuple[int, int, int, int]:
    return (job.created, job.updated, job.unchanged, job.rejected)


def test_a_rep_cannot_overwrite_another_reps_deal_and_the_dry_run_does_not_tell(reps):
    # given: Sam's deal; Rita's own deal
    rita, sam = reps
    theirs = DealFactory(external_id="d-sam", owner=sam, amount=Decimal("500"))
    DealFactory(external_id="d-rita", owner=rita, amount=Decimal("100"))
    text = (
        f"{DEALS_HEADER},owner\n"
        "d-sam,Taken,Proposal,99999999,2026-01-05T09:00:00,rita\n"
        "d-rita,Mine,Proposal,200,2026-01-05T09:00:00,\n"
    )

    # when: the dry run
    dry_run = _run(rita, "deals", text, confirm=False)

    # then: Sam's deal is neither "updated" nor "unchanged": rejected with its reason
    assert _counts(dry_run) == (0, 1, 0, 1)
    assert dry_run.first_rejections[0]["line"] == 2
    assert "not one of your records" in dry_run.first_rejections[0]["reason"]

    # when: confirmed
    job = _run(rita, "deals", text)

    # then: Sam's deal is untouched; Rita's updated and still hers
    theirs.refresh_from_db()
    assert (theirs.amount, theirs.owner, theirs.name) == (Decimal("500.00"), sam, theirs.name)
    assert _counts(job) == (0, 1, 0, 1)
    assert Deal.objects.get(external_id="d-rita").owner == rita


def test_a_rep_cannot_hand_a_new_won_deal_to_someone_else(reps):
    # given
    rita, sam = reps
    text = (
        f"{DEALS_HEADER},owner\n"
        "d-new,Big,Won,99999999,2026-01-05T09:00:00,sam\n"
        "d-mine,Small,Won,100,2026-01-05T09:00:00,\n"
    )

    # when
    job = _run(rita, "deals", text)

    # then: the row naming Sam is rejected; the other is Rita's (a scoped user's new record is)
    assert _counts(job) == (1, 0, 0, 1)
    assert "owner: you may not assign" in job.first_rejections[0]["reason"]
    assert not Deal.objects.filter(external_id="d-new").exists()
    assert Deal.objects.get(external_id="d-mine").owner == rita


def test_a_new_deal_without_an_owner_column_is_the_reps(reps):
    # given
    rita, _sam = reps

    # when
    _run(rita, "deals", f"{DEALS_HEADER}\nd-1,One,Proposal,100,2026-01-05T09:00:00\n")

    # then
    assert Deal.objects.get(external_id="d-1").owner == rita


def test_a_rep_cannot_rewrite_or_take_another_reps_contact(reps):
    # given
    rita, sam = reps
    ContactFactory(external_id="c-sam", email="budi@example.com", owner=sam)
    text = f"{CONTACTS_HEADER},owner\nc-sam,Budi,rita@example.com,2026-01-05T09:00:00,rita\n"

    # when
    job = _run(rita, "contacts", text)

    # then
    contact = Contact.objects.get(external_id="c-sam")
    assert (contact.email, contact.owner) == ("budi@example.com", sam)
    assert _counts(job) == (0, 0, 0, 1)


def test_a_rep_cannot_replace_another_reps_deal_items_and_learns_nothing_of_the_deal(reps):
    # given: Sam's deal with one item
    rita, sam = reps
    deal = DealFactory(external_id="d-sam", owner=sam)
    item = DealItemFactory(deal=deal, product=ProductFactory(external_id="p-1"))
    text = (
        "deal_external_id,product_external_id,quantity,unit_price\nd-sam,p-1,99,1\nd-none,p-1,1,1\n"
    )

    # when
    job = _run(rita, "deal_items", text)

    # then: both rows read alike (no such deal), Sam's item is still there
    assert list(DealItem.objects.values_list("pk", "quantity")) == [(item.pk, Decimal("1.00"))]
    reasons = [r["reason"] for r in job.first_rejections]
    assert reasons == [
        "deal_external_id: no deal with external_id 'd-sam' (load deals first)",
        "deal_external_id: no deal with external_id 'd-none' (load deals first)",
    ]


def test_a_rep_cannot_attach_a_deal_to_another_reps_contact(reps):
    # given
    rita, sam = reps
    ContactFactory(external_id="c-sam", owner=sam)

    # when
    job = _run(
        rita,
        "deals",
        f"{DEALS_HEADER},contact_external_id\nd-1,One,Proposal,1,2026-01-05T09:00:00,c-sam\n",
    )

    # then: answered as for a contact that does not exist
    assert _counts(job) == (0, 0, 0, 1)
    assert "no contact with external_id 'c-sam'" in job.first_rejections[0]["reason"]


def test_a_rep_cannot_create_a_pipeline_stage_but_may_add_a_lost_reason(reps):
    # given: reps may view stages only, and add lost reasons (accounts.roles)
    rita, _sam = reps
    text = (
        f"{DEALS_HEADER},lost_reason\n"
        "d-1,One,Brand New Stage,1,2026-01-05T09:00:00,\n"
        "d-2,Two,proposal,1,2026-01-05T09:00:00,Too slow\n"
    )

    # when
    job = _run(rita, "deals", text)

    # then
    assert not PipelineStage.objects.filter(name="Brand New Stage").exists()
    assert "you may not add stages" in job.first_rejections[0]["reason"]
    assert Deal.objects.get(external_id="d-2").stage.name == "Proposal"
    assert LostReason.objects.filter(name="Too slow").exists()


def test_without_add_lostreason_a_new_lost_reason_is_rejected(reps):
    # given: a user who may load deals but not add lost reasons
    user = UserFactory(is_staff=True)
    for codename in ("add_deal", "change_deal"):
        user.user_permissions.add(Permission.objects.get(codename=codename))

    # when
    job = _run(
        user,
        "deals",
        f"{DEALS_HEADER},lost_reason\nd-1,One,Proposal,1,2026-01-05T09:00:00,Too slow\n",
    )

    # then
    assert not LostReason.objects.exists()
    assert "you may not add lost reasons" in job.first_rejections[0]["reason"]


def test_a_user_who_sees_all_records_may_assign_owners_and_keeps_them(reps):
    # given: a superuser (holds view_all_records); Sam's deal
    rita, sam = reps
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    DealFactory(external_id="d-sam", owner=sam)

    # when: a file without an owner column updates it, and adds one for Rita and one unowned
    _run(boss, "deals", f"{DEALS_HEADER}\nd-sam,Renamed,Proposal,1,2026-01-05T09:00:00\n")
    _run(
        boss,
        "deals",
        f"{DEALS_HEADER},owner\n"
        "d-r,R,Proposal,1,2026-01-05T09:00:00,rita\n"
        "d-x,X,Proposal,1,2026-01-05T09:00:00,\n",
    )

    # then: Sam keeps his deal; a new unowned record is its creator's, as in the admin
    owners = dict(Deal.objects.values_list("external_id", "owner__username"))
    assert owners == {"d-sam": "sam", "d-r": "rita", "d-x": "boss"}
    assert Deal.objects.get(external_id="d-sam").name == "Renamed"


def test_the_command_keeps_its_full_rights(reps, tmp_path):
    # given
    _rita, sam = reps
    DealFactory(external_id="d-sam", owner=sam, amount=Decimal("5"))
    path = tmp_path / "deals.csv"
    path.write_text(f"{DEALS_HEADER}\nd-sam,X,Brand New Stage,7,2026-01-05T09:00:00\n")

    # when
    call_command("import_records", "deals", str(path))

    # then
    deal = Deal.objects.get(external_id="d-sam")
    assert (deal.amount, deal.stage.name, deal.owner) == (Decimal("7.00"), "Brand New Stage", sam)


def test_survey_answers_follow_the_survey_admins_scoping(reps):
    # given: an agent who may load answers but sees only answers of their own contacts (and
    # those given in chats); an answer through Sam's contact
    _rita, sam = reps
    agent = UserFactory(username="agent", is_staff=True)
    for codename in ("add_surveyresponse", "change_surveyresponse"):
        agent.user_permissions.add(Permission.objects.get(codename=codename))
    sams = ContactFactory(external_id="c-sam", owner=sam)
    SurveyResponseFactory(external_id="sr-sam", contact=sams, chat_contact=None, score=2)
    ChatContactFactory(external_id="cc-1")
    text = (
        "external_id,kind,score,contact_external_id,chat_contact_external_id,created_at\n"
        "sr-sam,nps,10,c-sam,,2026-01-05T09:00:00\n"
        "sr-new,nps,10,c-sam,,2026-01-05T09:00:00\n"
        "sr-chat,nps,10,,cc-1,2026-01-05T09:00:00\n"
    )

    # when
    job = _run(agent, "survey_responses", text)

    # then
    assert _counts(job) == (1, 0, 0, 2)
    assert SurveyResponse.objects.get(external_id="sr-sam").score == 2
    assert set(SurveyResponse.objects.values_list("external_id", flat=True)) == {
        "sr-sam",
        "sr-chat",
    }


def test_a_deals_history_follows_the_deal_owner_scoping(reps):
    # given: a user who may load deal history, but sees only their own deals
    rita, sam = reps
    for codename in ("add_dealchange", "change_dealchange"):
        rita.user_permissions.add(Permission.objects.get(codename=codename))
    DealFactory(external_id="d-sam", owner=sam)
    DealFactory(external_id="d-rita", owner=rita)
    text = (
        "deal_external_id,changed_at,stage,amount\n"
        "d-sam,2026-01-02T09:00:00,Proposal,1\n"
        "d-rita,2026-01-02T09:00:00,Proposal,1\n"
    )

    # when
    job = _run(rita, "deal_changes", text)

    # then
    assert (job.created, job.rejected) == (1, 1)
    assert "no deal with external_id 'd-sam'" in job.first_rejections[0]["reason"]
