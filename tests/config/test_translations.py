"""The Indonesian catalogue is complete: no empty or fuzzy entry, and the compiled .mo says
what the .po says (a string added without its translation, or not compiled, fails here)."""

import ast
import gettext
import re
from pathlib import Path

PO = Path(__file__).resolve().parents[2] / "locale" / "id" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def _unquote(lines: list[str]) -> str:
    return "".join(ast.literal_eval(line) for line in lines)


def po_entries(text: str) -> list[dict]:
    """Each entry: flags, msgid, msgid_plural, msgstr (a list: one per plural form)."""
    entries = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line for line in block.splitlines() if line.strip()]
        if all(line.startswith("#~") or line.startswith("#") for line in lines):
            continue  # obsolete entries and comments only
        entry = {"flags": [], "msgid": [], "msgid_plural": [], "msgstr": {}}
        current = None
        for line in lines:
            if line.startswith("#,"):
                entry["flags"] += [flag.strip() for flag in line[2:].split(",")]
            elif line.startswith("#"):
                continue
            elif line.startswith("msgid_plural "):
                current = entry["msgid_plural"]
                current.append(line[len("msgid_plural ") :])
            elif line.startswith("msgid "):
                current = entry["msgid"]
                current.append(line[len("msgid ") :])
            elif line.startswith("msgstr"):
                match = re.match(r"msgstr(?:\[(\d+)\])? (.*)", line)
                current = entry["msgstr"].setdefault(int(match.group(1) or 0), [])
                current.append(match.group(2))
            elif line.startswith('"') and current is not None:
                current.append(line)
        entries.append(
            {
                "flags": entry["flags"],
                "msgid": _unquote(entry["msgid"]),
                "msgid_plural": _unquote(entry["msgid_plural"]),
                "msgstr": [_unquote(v) for _k, v in sorted(entry["msgstr"].items())],
            }
        )
    return entries


def test_parser_sees_empty_and_fuzzy_entries():
    # given
    text = (
        'msgid ""\nmsgstr ""\n"Language: id\\n"\n\n'
        '#, fuzzy\nmsgid "Revenue"\nmsgstr "Pendapatan"\n\n'
        'msgid "Value"\nmsgstr ""\n\n'
        'msgid ""\n"Two "\n"lines"\nmsgstr "Dua baris"\n'
    )

    # when
    entries = po_entries(text)

    # then
    assert [e["msgid"] for e in entries] == ["", "Revenue", "Value", "Two lines"]
    assert entries[1]["flags"] == ["fuzzy"]
    assert entries[2]["msgstr"] == [""]
    assert entries[3]["msgstr"] == ["Dua baris"]


def test_indonesian_catalogue_has_no_empty_or_fuzzy_entry():
    # given
    entries = po_entries(PO.read_text(encoding="utf-8"))[1:]  # [0] is the header

    # when
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    empty = [e["msgid"] for e in entries if not all(e["msgstr"]) or not e["msgstr"]]

    # then
    assert len(entries) > 300
    assert fuzzy == [], f"fuzzy entries in {PO.name}: {fuzzy}"
    assert empty == [], f"untranslated entries in {PO.name}: {empty}"


def test_compiled_catalogue_matches_the_po_file():
    # given
    catalogue = gettext.GNUTranslations(MO.open("rb"))
    entries = [e for e in po_entries(PO.read_text(encoding="utf-8"))[1:] if not e["msgid_plural"]]

    # when
    stale = [
        e["msgid"]
        for e in entries
        if e["msgstr"] and e["msgstr"][0] and catalogue.gettext(e["msgid"]) != e["msgstr"][0]
    ]

    # then: run `manage.py compilemessages -l id` after editing the .po
    assert stale == []
