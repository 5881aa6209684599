"""Strings of installed apps that ship no Indonesian catalogue (django-celery-beat), listed so
`makemessages` keeps them in locale/id; the project's catalogue is searched first."""

from django.utils.translation import gettext_noop

THIRD_PARTY_STRINGS = (
    gettext_noop("Periodic Tasks"),
    gettext_noop("periodic task"),
    gettext_noop("periodic tasks"),
    gettext_noop("periodic task track"),
    gettext_noop("periodic task tracks"),
    gettext_noop("crontab"),
    gettext_noop("crontabs"),
    gettext_noop("interval"),
    gettext_noop("intervals"),
    gettext_noop("clocked"),
    gettext_noop("solar event"),
    gettext_noop("solar events"),
    # Django's own Indonesian login error repeats "nama pengguna" ("Masukkan nama pengguna nama
    # pengguna…", its %(username)s is the field's label): ours is searched first.
    gettext_noop(
        "Please enter the correct %(username)s and password for a staff account. Note that both "
        "fields may be case-sensitive."
    ),
    gettext_noop(
        "Please enter a correct %(username)s and password. Note that both fields may be "
        "case-sensitive."
    ),
)
