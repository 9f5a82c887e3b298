"""De-identification's pure parts: offsets carried across replacements, date shifting, the filters, the secret.

No spaCy model is loaded here: the Deidentifier's detection is replaced by fixed spans, so what is tested is
what it does with them (tests/integration/test_deidentification.py runs the real Presidio analyzer).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

import pytest

from medkg.kg.records import TIER_LITERATURE, TIER_REPORT, Document, Section
from medkg.pipelines.deid import Deidentifier, deid_secret, deidentify_reports
from medkg.pipelines.deid.dates import shift_dates, shift_for
from medkg.pipelines.deid.edits import Edit, Span, apply_edits, remap_offset, remap_sections, resolve_overlaps
from medkg.pipelines.deid.filters import (
    clip_line,
    find_words,
    is_placeholder,
    keep_model_location,
    keep_model_person,
    keep_url,
    looks_like_proper_name,
    propagate_names,
)

NOTHING_MEDICAL = frozenset[str]().__contains__


# -- edits and offsets -----------------------------------------------------------------------------------------

def test_apply_edits_and_remap_offsets() -> None:
    text = "Seen by John Smith on ward 4."
    edits = [Edit(8, 18, "[NAME]", "NAME")]
    new = apply_edits(text, edits)
    assert new == "Seen by [NAME] on ward 4."
    assert remap_offset(0, edits) == 0
    assert remap_offset(8, edits) == 8  # a start at the replacement's start keeps it
    assert remap_offset(8, edits, end=True) == 8  # an end there stops before it
    assert remap_offset(12, edits) == 8  # inside: a start moves to the replacement's start
    assert remap_offset(12, edits, end=True) == 14  # ... an end to its end
    assert remap_offset(18, edits) == 14 and remap_offset(18, edits, end=True) == 14
    assert new[remap_offset(22, edits) :] == text[22:]  # after it: moved by the difference


def test_sections_point_at_the_same_text_after_replacement() -> None:
    text = "HPI: Anna Kowalski, 93-year-old.\nPLAN: call 617-432-1876 or Dr. Lopez.\n"
    sections = (Section("HPI", 0, 32), Section("PLAN", 33, len(text)))
    edits = [Edit(5, 18, "[NAME]"), Edit(20, 22, "90+"), Edit(44, 56, "[PHONE]"), Edit(64, 69, "[NAME]")]
    new = apply_edits(text, edits)
    moved = remap_sections(sections, edits)
    assert new[moved[0].start : moved[0].end] == "HPI: [NAME], 90+-year-old."
    assert new[moved[1].start : moved[1].end] == "PLAN: call [PHONE] or Dr. [NAME].\n"


def test_apply_edits_refuses_overlaps() -> None:
    with pytest.raises(ValueError):
        apply_edits("abcdef", [Edit(0, 3, "x"), Edit(2, 4, "y")])


def test_resolve_overlaps_prefers_the_specific_type_then_the_longer_span() -> None:
    spans = [Span("URL", 10, 20), Span("EMAIL", 5, 20), Span("DATE", 30, 41), Span("AGE", 30, 32),
             Span("NAME", 50, 55), Span("NAME", 50, 60), Span("PHONE", 70, 82), Span("FAX", 70, 82)]
    assert resolve_overlaps(spans) == [Span("EMAIL", 5, 20), Span("AGE", 30, 32), Span("NAME", 50, 60),
                                       Span("FAX", 70, 82)]


# -- dates -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "shifted"), [
    ("03/14/2019", "04/23/2019"), ("3/14/19", "4/23/19"), ("2019-03-14", "2019-04-23"), ("03-14-2019", "04-23-2019"),
    ("March 14, 2019", "April 23, 2019"), ("Mar 14, 2019", "Apr 23, 2019"), ("Mar. 14, 2019", "Apr. 23, 2019"),
    ("14 March 2019", "23 April 2019"), ("March 14th, 2019", "April 23rd, 2019"), ("MARCH 14, 2019", "APRIL 23, 2019"),
    ("14-Mar-2019", "23-Apr-2019"), ("March 2019", "April 2019"), ("03/2019", "04/2019"), ("12.03.2019", "21.04.2019"),
    ("Thursday, March 14, 2019", "Tuesday, April 23, 2019"), ("25/12/2019", "03/02/2020"), ("5/1/2019", "6/10/2019"),
])
def test_a_shifted_date_keeps_its_format(given: str, shifted: str) -> None:
    assert shift_dates(given, 40) == [(0, len(given), shifted)]


def test_dates_inside_text_and_what_is_no_date() -> None:
    text = "Seen on October 6 and 1/2/2020; pain 5/10, BP 124/78, in 2019, two weeks ago, she may 2, at 10:30."
    found = shift_dates(text, -300)
    assert [(text[s:e], new) for s, e, new in found] == [("October 6", "December 11"), ("1/2/2020", "3/8/2019")]


def test_feb_29_without_a_year_is_not_produced() -> None:
    assert shift_dates("Feb 28", 1) == [(0, 6, "Mar 1")]


def test_shift_is_stable_nonzero_and_depends_on_secret_and_id() -> None:
    shifts = {shift_for(b"k", f"report:{i}") for i in range(500)}
    assert 0 not in shifts and max(shifts) <= 365 and min(shifts) >= -365 and len(shifts) > 250
    assert shift_for(b"k", "report:a") == shift_for(b"k", "report:a")
    assert shift_for(b"k", "report:a") != shift_for(b"other", "report:a")


# -- filters ---------------------------------------------------------------------------------------------------

def test_placeholders_and_proper_names() -> None:
    assert is_placeholder("XXXX") and is_placeholder("XXXX XXXX I") and is_placeholder("XYZ") and is_placeholder("X")
    assert not is_placeholder("Smith")
    assert looks_like_proper_name("Anna Kowalski") and looks_like_proper_name("Jan van der Berg")
    assert not looks_like_proper_name("gross hematuria") and not looks_like_proper_name("Hemoglobin 13")
    assert not looks_like_proper_name("DIAGNOSIS")


def test_the_models_names_and_places_are_checked() -> None:
    text = "Vital Signs: stable. Foley Catheter placed. Anna Kowalski visited. Ta Nx Mx. She moved from Boston."
    medical = frozenset({"vital signs", "catheters"}).__contains__

    def span(kind: str, s: str) -> Span:
        return Span(kind, text.index(s), text.index(s) + len(s), "model")

    assert keep_model_person(text, span("NAME", "Anna Kowalski"), medical)
    assert not keep_model_person(text, span("NAME", "Vital Signs"), medical)
    assert not keep_model_person(text, span("NAME", "Foley Catheter"), medical)
    assert not keep_model_person(text, span("NAME", "Ta Nx Mx"), medical)
    assert keep_model_location(text, span("LOCATION", "Boston"), medical)
    assert not keep_model_location(text, span("LOCATION", "Foley"), medical)  # no preposition of place


def test_clip_line_and_urls() -> None:
    text = "Dr. John Nguyen\n2353 Chestnut Street"
    assert clip_line(text, Span("NAME", 4, 20)) == Span("NAME", 4, 15)
    text = "see www.clinic.org, https://x.io/a and apex.There"
    assert keep_url(text, Span("URL", 4, 18)) and keep_url(text, Span("URL", 20, 34))
    assert not keep_url(text, Span("URL", 39, 46))


def test_surnames_are_found_again() -> None:
    text = "PATIENT: NGUYEN, ANH\nMrs. Nguyen tolerated it. Anh was seen. Seen by Maria Lopez; Lopez agrees."
    names = [Span("NAME", 9, 20), Span("NAME", text.index("Maria"), text.index("Maria") + 11)]
    found = {text[s.start : s.end] for s in propagate_names(text, names, NOTHING_MEDICAL)}
    assert found == {"NGUYEN", "Nguyen", "Lopez"}  # surnames only: given names are too often words


# -- the Deidentifier around detection -------------------------------------------------------------------------

class FixedDetection(Deidentifier):
    """The Deidentifier with detection replaced by exact string matches (no model loaded)."""

    def __init__(self, found: dict[str, str]) -> None:
        super().__init__(b"test-secret", medical_terms=frozenset())
        self.found = found

    def detect(self, text: str, names: Iterable[str] = (), artifacts: object = None) -> list[Span]:
        spans = find_words(text, names)
        for s, kind in self.found.items():
            start = text.find(s)
            while start >= 0:
                spans.append(Span(kind, start, start + len(s), "test"))
                start = text.find(s, start + 1)
        return resolve_overlaps(spans)


def _doc(text: str, title: str = "", date: str = "", sections: tuple[Section, ...] = ()) -> Document:
    return Document(id="report:n1", text=text, tier=TIER_REPORT, kind="report", title=title, date=date,
                    sections=sections)


def test_deidentify_replaces_shifts_remaps_and_counts() -> None:
    text = "HPI: John Smith, 93-year-old, seen 03/14/2019.\nPLAN: recheck 03/21/2019; call 617-432-1876."
    deid = FixedDetection({"John Smith": "NAME", "93": "AGE", "03/14/2019": "DATE", "03/21/2019": "DATE",
                           "617-432-1876": "PHONE"})
    doc = _doc(text, title="John Smith 03/14/2019", date="2019-03-14",
               sections=(Section("HPI", 0, 46), Section("PLAN", 47, len(text))))
    new, report = deid.deidentify(doc)
    days = deid.shift_days("report:n1")
    assert new.text.startswith("HPI: [NAME], 90+-year-old, seen ")
    assert "John" not in new.text and "617" not in new.text and "03/14/2019" not in new.text
    first, second = shift_dates(new.text, 0)[:2]
    assert shift_dates("03/14/2019", days)[0][2] == new.text[first[0] : first[1]]
    assert shift_dates("03/21/2019", days)[0][2] == new.text[second[0] : second[1]]  # same shift: 7 days apart
    assert [new.text[s.start : s.end].split(":")[0] for s in new.sections] == ["HPI", "PLAN"]
    assert new.text[new.sections[1].start : new.sections[1].end].endswith("call [PHONE].")
    assert new.title.startswith("[NAME] ") and new.date != doc.date and len(new.date) == len(doc.date)
    assert report.counts == {"AGE": 1, "DATE": 3, "NAME": 2, "PHONE": 1} and report.total == 7  # text and title
    assert "John" not in repr(report)
    assert deid.deidentify(doc) == (new, report)  # a re-run gives the same document


def test_only_reports_are_deidentified() -> None:
    deid = FixedDetection({"Smith": "NAME"})
    docs = [_doc("Mr. Smith"), Document(id="PMID:1", text="Smith et al.", tier=TIER_LITERATURE)]
    out = list(deidentify_reports(docs, deidentifier=deid))
    assert [d.text for d in out] == ["Mr. [NAME]", "Smith et al."]


def test_secret_from_environment_or_a_private_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDKG_DEID_SECRET", "s3cret")
    assert deid_secret() == b"s3cret"
    monkeypatch.delenv("MEDKG_DEID_SECRET")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    first = deid_secret()
    key = tmp_path / "medkg" / "deid.key"
    assert key.exists() and stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert deid_secret() == first and len(first) == 64


def test_no_key_is_made_when_no_date_is_shifted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDKG_DEID_SECRET", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    deid = FixedDetection({"Smith": "NAME"})
    deid._secret = None
    deid.deidentify(_doc("Mr. Smith"))
    assert not (tmp_path / "medkg" / "deid.key").exists()
