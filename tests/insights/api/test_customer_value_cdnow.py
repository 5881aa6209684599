"""CDNOW check: the paper's parameters through import_records, rebuild and the API.

tests/data/CDNOW_sample.txt is the public CDNOW research sample as shipped in the `lifetimes`
package (lifetimes/datasets/CDNOW_sample.txt, v0.11.3): master id, sample id, date YYYYMMDD,
number of CDs, dollars; 6,919 lines, 2,357 customers who first bought in Q1 1997.

Fader, Hardie and Lee (2005) fit weeks 1-39 (to 1997-09-30): BG/NBD r = 0.243, α = 4.414 per
week (30.90 per day), a = 0.793, b = 2.426; "RFM and CLV": Gamma-Gamma p = 6.25, q = 3.74,
γ = 15.44 over the 946 customers with a repeat purchase. METRICS.md V counts buying DAYS
(several lines on one day are one purchase of their summed value) in days, as the paper's
data preparation did: the 4,960 lines up to 1997-09-30 are 4,814 buying days, and α in days
is exactly 7 × α in weeks.
"""

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from insights.rebuild import insights_rebuild

DATA = Path(__file__).resolve().parents[2] / "data" / "CDNOW_sample.txt"
QUERY = {"start": "1997-01-01", "end": "1997-09-30", "horizon": "273"}  # holdout to 1998-06-30


def _csv(path: Path, header: list[str], rows) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _load(tmp_path: Path) -> None:
    lines = [line.split() for line in DATA.read_text().splitlines() if line.strip()]
    firsts: dict[str, str] = {}
    for master, _sample, day, _cds, _dollars in lines:
        firsts.setdefault(master, day)
    stamp = lambda day: f"{day[:4]}-{day[4:6]}-{day[6:]}T12:00:00"  # noqa: E731 (local noon)
    contacts = _csv(
        tmp_path / "contacts.csv",
        ["external_id", "first_name", "created_at"],
        [(master, f"CDNOW {master}", stamp(day)) for master, day in firsts.items()],
    )
    deals = _csv(
        tmp_path / "deals.csv",
        ["external_id", "contact_external_id", "stage", "outcome", "amount", "created_at",
         "closed_at"],
        [
            (f"L{n}", master, "Purchase", "won", dollars, stamp(day), stamp(day))
            for n, (master, _sample, day, _cds, dollars) in enumerate(lines, start=1)
        ],
    )  # fmt: skip
    for kind, path in (("contacts", contacts), ("deals", deals)):
        out = io.StringIO()
        call_command("import_records", kind, str(path), stdout=out, stderr=io.StringIO())
        assert "rejected 0" in out.getvalue()


@pytest.mark.django_db(transaction=False)
def test_cdnow_reproduces_the_papers_parameters(api, tmp_path):
    # given the CDNOW sample loaded through the public importer, and a rebuild
    _load(tmp_path)
    insights_rebuild(trigger="test")

    # when
    response = api.get("/api/v1/insights/customer-value/", {**QUERY, "model": "bgnbd"})

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["fitted"] is True
    assert body["model"] == "bgnbd"
    assert body["as_of"] == "1997-09-30"
    assert body["customers"] == 2357
    paper = {"r": 0.243, "alpha": 30.90, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74,
             "gamma": 15.44}  # fmt: skip
    for name, value in paper.items():
        assert body["parameters"][name] == pytest.approx(value, rel=0.01), name
    assert body["parameters"]["alpha"] / 7 == pytest.approx(4.414, rel=0.01)
    # The holdout (1997-10-01 .. 1998-06-30) has passed: the paper's check is there.
    holdout = body["holdout"]
    assert [row["x"] for row in holdout["by_x"]] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(row["customers"] for row in holdout["by_x"]) == 2357
    assert holdout["by_x"][0]["customers"] == 2357 - 946
    assert isinstance(holdout["actual_purchases"], int)
    assert holdout["expected_purchases"] == pytest.approx(
        sum(row["customers"] * row["expected"] for row in holdout["by_x"])
    )
    assert sum(body["p_alive_histogram"]) == 2357


@pytest.mark.django_db(transaction=False)
def test_cdnow_mbgnbd_parameters_and_one_time_buyers(api, tmp_path):
    # given the CDNOW sample, as above
    _load(tmp_path)
    insights_rebuild(trigger="test")

    # when: the default model
    body = api.get("/api/v1/insights/customer-value/", QUERY).json()

    # then: Batislam et al.'s MBG/NBD on CDNOW (weeks): r 0.525, α 6.183, a 0.891, b 1.614
    assert body["fitted"] is True
    assert body["model"] == "mbgnbd"
    weeks = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
    for name, value in weeks.items():
        got = body["parameters"][name] / (7 if name == "alpha" else 1)
        assert got == pytest.approx(value, abs=0.0015), name
    # the 1,411 one-time buyers are no longer alive for sure: on CDNOW their P(alive) is
    # about 0.4, so every one of them is at risk (P(alive) < 0.5, one-time buyers included)
    assert body["p_alive_histogram"][9] < 946
    assert body["customers_at_risk"] >= 2357 - 946
