"""A test set for de-identification: real report structures with realistic identifiers inserted at known offsets.

The report text comes from MTSamples (``transcription``) and the IU chest X-ray development reports (indication,
comparison, findings, impression), which carry no real identifiers: MTSamples was scrubbed by hand, IU by
replacing them with ``XXXX``. This script puts realistic, invented ones back and records where:

- a header of labelled fields on some reports (``PATIENT: Nguyen, Anh``, ``MRN: 00482913``), a signature on others
  (``Dictated by: Maria Lopez, MD``), and free-text sentences between the report's own sentences (``Her daughter,
  Anna Kowalski, can be reached at (617) 432-1876.``);
- in IU reports, ``XXXX`` where the context says what was removed: before ``-year-old`` an age, after ``dated`` or
  as the whole comparison a date; other ``XXXX`` stay (IU also removed ordinary words that way);
- in MTSamples, some of the reports' own ages (``This 23-year-old``) become ages over 89.

Names, streets, cities and e-mail domains come from two pools, and sentence templates from two lists; the
``tune`` split (even rows) draws from the first of each, the ``heldout`` split (odd rows) from the second, so
figures on ``heldout`` are on text, names and phrasings that no choice of the recognisers saw. Formats of
dates, phone numbers and record numbers are shared: they are a closed set a recogniser has to know.

Writes JSONL, one report per line: ``{"id", "source", "split", "text", "spans": [{"type", "start", "end"}]}``
(``end`` exclusive). The output holds MTSamples and IU text, whose terms forbid committing it: the default
path is under /tmp, never the repository.

    .venv/bin/python bench/deid_data.py [OUT.jsonl] [--seed 13] [--limit N]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

DATA = Path(os.environ.get("MEDKG_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
MTSAMPLES = DATA / "corpus" / "mtsamples" / "mtsamples_subset322.csv"
IU = DATA / "corpus" / "iu_xray" / "iu_reports_dev.csv"
DEFAULT_OUT = Path("/tmp/medkg-deid/deid_testset.jsonl")

FIRST = ["John", "Maria", "Anh", "Robert", "Aisha", "Wei", "Patricia", "Olumide", "Sean", "Priya", "Carlos",
         "Ingrid", "Dmitri", "Fatima", "Michael", "Yuki", "Linda", "Tomasz", "Grace", "Ahmed", "Elena", "Kwame",
         "Susan", "Rajesh", "Hannah", "Luis", "Beatriz", "Connor", "Mei", "Samuel", "Nadia", "Henry", "Chloe",
         "Jamal", "Rosa", "Viktor", "Emily", "Omar", "Keiko", "David"]
LAST = ["Smith", "Lopez", "Nguyen", "Kowalski", "Okafor", "O'Brien", "Patel", "Goldberg", "Haddad", "Rossi",
        "Johnson", "Garcia-Ramirez", "Chen", "Lindqvist", "Petrov", "Mensah", "Brennan", "Tanaka", "Schultz",
        "Abernathy", "Fitzgerald", "Alvarez", "Kim", "Novak", "Whitfield", "Dubois", "Castellano", "Hoang",
        "Baptiste", "McAllister", "Rahman", "Stewart", "Moreau", "Yamamoto", "Kaczmarek", "Adeyemi", "Hartley",
        "Ferreira", "Sokolov", "Delgado"]
STREETS = ["Maple Avenue", "Oak St.", "Lincoln Highway", "Cedar Lane", "Washington Blvd", "Elm Street",
           "Harbor View Drive", "Pine Rd", "Sunset Boulevard", "Mill Creek Court", "Chestnut Street", "Lakeshore Dr",
           "Willow Way", "Franklin Ave.", "Birch Terrace", "Main Street"]
CITIES = [("Springfield", "IL", "62704"), ("Boston", "MA", "02115"), ("Austin", "TX", "78701"),
          ("Columbus", "OH", "43215"), ("Portland", "OR", "97205"), ("Raleigh", "NC", "27601"),
          ("Madison", "WI", "53703"), ("Tucson", "AZ", "85701"), ("Albany", "NY", "12207"),
          ("Boise", "ID", "83702"), ("Savannah", "GA", "31401"), ("Omaha", "NE", "68102")]
DOMAINS = ["gmail.com", "partners.org", "yahoo.com", "stmaryshealth.org", "outlook.com", "uihc.edu",
           "comcast.net", "mercyclinic.com"]
SITES = ["www.springfieldcardiology.com/patients/{n}", "https://portal.{d}/records/{n}", "http://myhealth.{d}/u/{n}",
         "https://www.{d}/appointments?id={n}"]
AREA = ["617", "312", "415", "503", "713", "919", "608", "520", "518", "208", "912", "402", "614", "773"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


class Gen:
    """Random identifiers of every type, from the pool half of one split."""

    def __init__(self, rng: random.Random, split: str) -> None:
        self.rng, half = rng, (0 if split == "tune" else 1)
        self.first, self.last = FIRST[half::2], LAST[half::2]
        self.streets, self.cities, self.domains = STREETS[half::2], CITIES[half::2], DOMAINS[half::2]

    def name(self) -> str:
        """A name as running text writes it: ``Anh Nguyen``, ``Anh T. Nguyen``."""
        f, last = self.rng.choice(self.first), self.rng.choice(self.last)
        return f"{f} {last}" if self.rng.random() < 0.7 else f"{f} {self.rng.choice('ABCDEHJKLMPRST')}. {last}"

    def field_name(self) -> str:
        """A name as a form field holds it: also ``Nguyen, Anh`` and ``NGUYEN, ANH``."""
        r, f, last = self.rng.random(), self.rng.choice(self.first), self.rng.choice(self.last)
        if r < 0.5:
            return self.name()
        return f"{last}, {f}" if r < 0.8 else f"{last.upper()}, {f.upper()}"

    def surname(self) -> str:
        return self.rng.choice(self.last)

    def doctor(self) -> tuple[str, str, str]:
        """(title, name, credentials): only the name is an identifier."""
        f, last, r = self.rng.choice(self.first), self.rng.choice(self.last), self.rng.random()
        if r < 0.5:
            return "Dr. ", f"{f} {last}", ""
        if r < 0.8:
            return "", f"{f} {last}", f", {self.rng.choice(['MD', 'M.D.', 'DO', 'PA-C', 'NP'])}"
        return "Dr. ", last, ""

    def date(self) -> str:
        d = date(2003, 1, 1) + timedelta(days=self.rng.randrange(0, 7300))
        m = MONTHS[d.month - 1]
        fmt = self.rng.randrange(10)
        return [f"{d.month:02d}/{d.day:02d}/{d.year}", f"{d.month}/{d.day}/{d.year % 100:02d}", d.isoformat(),
                f"{m} {d.day}, {d.year}", f"{m[:3]} {d.day}, {d.year}", f"{d.day} {m} {d.year}",
                f"{m} {d.day}th, {d.year}" if d.day in range(4, 21) else f"{m} {d.day}, {d.year}",
                f"{d.month:02d}-{d.day:02d}-{d.year}", f"{m[:3]}. {d.day}, {d.year}", f"{m} {d.year}"][fmt]

    def age(self) -> str:
        return str(self.rng.randrange(90, 105))

    def phone(self) -> str:
        a, b, c = self.rng.choice(AREA), self.rng.randrange(201, 989), self.rng.randrange(1000, 9999)
        b = b if b % 100 != 11 else b + 1  # N11 exchanges are not assigned
        return self.rng.choice([f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"+1 {a} {b} {c}",
                                f"1-{a}-{b}-{c}"])

    def fax(self) -> str:
        return self.phone()

    def email(self) -> str:
        f, last = self.rng.choice(self.first).lower(), self.rng.choice(self.last).lower().replace("'", "")
        return self.rng.choice([f"{f}.{last}", f"{f[0]}{last}", f"{last}{self.rng.randrange(10, 99)}"]) + \
            "@" + self.rng.choice(self.domains)

    def address(self) -> str:
        n, street = self.rng.randrange(12, 9800), self.rng.choice(self.streets)
        city, state, zipcode = self.rng.choice(self.cities)
        unit = self.rng.choice(["", "", f", Apt {self.rng.randrange(1, 40)}{self.rng.choice('ABC')}",
                                f", Suite {self.rng.randrange(100, 900)}"])
        if self.rng.random() < 0.15:
            return f"P.O. Box {self.rng.randrange(10, 9999)}, {city}, {state} {zipcode}"
        return f"{n} {street}{unit}, {city}, {state} {zipcode}"

    def city(self) -> str:
        return self.rng.choice(self.cities)[0]

    def mrn(self) -> str:
        return self.rng.choice([f"{self.rng.randrange(0, 10**8):08d}", str(self.rng.randrange(10**6, 10**7)),
                                f"{self.rng.randrange(100, 999)}-{self.rng.randrange(10, 99)}-"
                                f"{self.rng.randrange(10, 99)}", f"E{self.rng.randrange(10**6, 10**7)}"])

    def account(self) -> str:
        return self.rng.choice([str(self.rng.randrange(10**9, 10**11)), f"A-{self.rng.randrange(10**7, 10**8)}",
                                f"{self.rng.randrange(1000, 9999)}-{self.rng.randrange(100000, 999999)}"])

    def url(self) -> str:
        return self.rng.choice(SITES).format(n=self.rng.randrange(1000, 99999), d=self.rng.choice(self.domains))

    def ip(self) -> str:
        first = self.rng.choice(["10", "192.168", "172.16", "131.94"])
        parts = first.split(".") + [str(self.rng.randrange(0, 255)) for _ in range(4 - len(first.split(".")))]
        return ".".join(parts)


# Sentence templates; {TYPE} is an identifier of that type (NAME, FIELD_NAME, DOCTOR, SURNAME are NAME spans).
# Even entries are the tuning split's, odd entries the held-out split's.
SENTENCES = [
    "She was seen in clinic by {DOCTOR} on {DATE}.",
    "He was evaluated by {DOCTOR} in the emergency department on {DATE}.",
    "Her daughter, {NAME}, can be reached at {PHONE}.",
    "The patient's son {NAME} ({PHONE}) is the health care proxy.",
    "{NAME} is a {AGE}-year-old who presents for follow-up.",
    "Patient is a {AGE} year old seen with her husband {NAME}.",
    "Records were faxed to {DOCTOR} at fax {FAX}.",
    "Please send a copy to the referring office (fax number {FAX}).",
    "Mr. {SURNAME} was counseled regarding the risks and benefits.",
    "Mrs. {SURNAME} tolerated the procedure well.",
    "Questions may be sent to {EMAIL}.",
    "The patient prefers contact by e-mail at {EMAIL}.",
    "Home address: {ADDRESS}.",
    "She lives at {ADDRESS} with her sister.",
    "Images are available at {URL}.",
    "Results were posted to the patient portal ({URL}).",
    "Study retrieved from PACS workstation {IP}.",
    "The device uploaded readings from IP address {IP}.",
    "Prior study dated {DATE} was reviewed; next visit on {DATE}.",
    "Surgery was performed on {DATE} and she was discharged {DATE}.",
    "Account number: {ACCOUNT}.",
    "Billing acct #{ACCOUNT} was updated.",
    "Medical record number {MRN} was verified with two identifiers.",
    "Identity confirmed (MR# {MRN}).",
    "She recently moved here from {CITY}.",
    "He spends the winter in {CITY} with family.",
    "Spoke with {NAME}, the patient's niece, by phone at {PHONE}.",
    "Discussed with Dr. {SURNAME}, who agrees with the plan.",
    "Ms. {SURNAME} was given written instructions.",
    "Her primary care physician is {DOCTOR}.",
    # names with no title, label, relative or credential around them: the statistical model's part
    "{NAME} arrived by ambulance accompanied by staff.",
    "{NAME} reports that the pain is better today.",
    "Per {NAME}, the symptoms began after the fall.",
    "Collateral history was obtained from {NAME} at the bedside.",
]
HEADERS = [
    ["PATIENT: {FIELD_NAME}", "MRN: {MRN}", "DATE OF SERVICE: {DATE}", "ACCOUNT #: {ACCOUNT}"],
    ["Patient Name: {FIELD_NAME}", "Medical Record No.: {MRN}", "Admission Date: {DATE}", "Acct: {ACCOUNT}",
     "Phone: {PHONE}"],
    ["NAME: {FIELD_NAME}", "DOB: {DATE}", "MR #: {MRN}", "Attending: {DOCTOR}"],
    ["Pt: {FIELD_NAME}   Med Rec #: {MRN}", "Exam date: {DATE}", "Encounter/account no. {ACCOUNT}",
     "Referring physician: {DOCTOR}"],
]
SIGNATURES = [
    "Dictated by: {DOCTOR}\nD: {DATE}  T: {DATE}",
    "Electronically signed by {DOCTOR} on {DATE}.\ncc: {DOCTOR}, fax {FAX}",
    "{DOCTOR}\n{ADDRESS}\nTel {PHONE}",
    "Reviewed and signed: {DOCTOR}, {DATE}\nClinic: {ADDRESS}, tel. {PHONE}",
]
PLACEHOLDER = re.compile(r"\{([A-Z_]+)\}")
GOLD_TYPE = {"DOCTOR": "NAME", "SURNAME": "NAME", "FIELD_NAME": "NAME", "CITY": "LOCATION"}


class Builder:
    """Text assembled piece by piece, with the offsets of every identifier put in."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.spans: list[dict] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def add_identifier(self, kind: str, value: str) -> None:
        self.spans.append({"type": GOLD_TYPE.get(kind, kind), "start": self.length,
                           "end": self.length + len(value)})
        self.add(value)

    def add_template(self, template: str, gen: Gen) -> None:
        pos = 0
        for m in PLACEHOLDER.finditer(template):
            self.add(template[pos : m.start()])
            value = getattr(gen, m.group(1).lower())()
            pre, value, post = value if isinstance(value, tuple) else ("", value, "")
            self.add(pre)
            self.add_identifier(m.group(1), value)
            self.add(post)
            pos = m.end()
        self.add(template[pos:])

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _split(index: int) -> str:
    return "tune" if index % 2 == 0 else "heldout"


def _templates(items: list, split: str) -> list:
    return items[0::2] if split == "tune" else items[1::2]


# after a full stop that ends a sentence, not an abbreviation ("Dr. Smith")
SENTENCE_END = re.compile(r"(?<=[.!?])(?<!Dr\.)(?<!Mr\.)(?<!Mrs\.)(?<!Ms\.)(?<!St\.)(?<!vs\.)(?<!No\.)\s+(?=[A-Z])|"
                          r"(?<=\.),(?=[A-Z]{3,})")
MT_AGE = re.compile(r"\b(\d{1,2})(?=[- ]years?[- ]old\b)")


def mtsamples_report(text: str, gen: Gen, rng: random.Random, split: str) -> Builder:
    """An MTSamples transcription with a header or signature and 2-5 sentences inserted between its own."""
    b = Builder()
    if rng.random() < 0.6:
        for line in rng.choice(_templates(HEADERS, split)):
            b.add_template(line, gen)
            b.add("\n")
        b.add("\n")
    cuts = [m.end() for m in SENTENCE_END.finditer(text)]
    chosen = sorted(rng.sample(cuts, min(len(cuts), rng.randrange(2, 6))))
    pos = 0
    for cut in chosen + [len(text)]:
        piece = text[pos:cut]
        _add_with_ages(b, piece, gen, rng)
        if cut < len(text):
            if not piece[-1:].isspace():  # after MTSamples' ".,HEADING:" run-ons, where a line break was
                b.add(" ")
            b.add_template(rng.choice(_templates(SENTENCES, split)), gen)
            b.add(" ")
        pos = cut
    if rng.random() < 0.5:
        b.add("\n\n")
        b.add_template(rng.choice(_templates(SIGNATURES, split)), gen)
    return b


def _add_with_ages(b: Builder, piece: str, gen: Gen, rng: random.Random) -> None:
    """The report's own text, with some of its ages (``23-year-old``) raised above 89."""
    pos = 0
    for m in MT_AGE.finditer(piece):
        if rng.random() < 0.5:
            b.add(piece[pos : m.start()])
            b.add_identifier("AGE", gen.age())
            pos = m.end()
    b.add(piece[pos:])


IU_SLOT = re.compile(r"XXXX(?=-year-old)|(?<=\bdated )XXXX|(?<=\bon )XXXX(?=[.,])")


def iu_report(row: dict[str, str], gen: Gen, rng: random.Random, split: str) -> Builder:
    """An IU report in its usual layout, ``XXXX`` filled where the context says what was removed."""
    b = Builder()
    if rng.random() < 0.4:
        for line in rng.choice(_templates(HEADERS, split))[:3]:
            b.add_template(line, gen)
            b.add("\n")
    for label in ("indication", "comparison", "findings", "impression"):
        value = (row.get(label) or "").strip()
        if not value:
            continue
        b.add(f"{label.upper()}: ")
        if label == "comparison" and value == "XXXX":
            b.add_identifier("DATE", gen.date())
        else:
            _fill_slots(b, value, gen, rng)
        b.add("\n")
    if rng.random() < 0.5:
        b.add_template(rng.choice(_templates(SENTENCES, split)), gen)
        b.add("\n")
    if rng.random() < 0.5:
        b.add_template(rng.choice(_templates(SIGNATURES, split)), gen)
    return b


def _fill_slots(b: Builder, value: str, gen: Gen, rng: random.Random) -> None:
    pos = 0
    for m in IU_SLOT.finditer(value):
        b.add(value[pos : m.start()])
        if value[m.end() :].startswith("-year-old"):
            if rng.random() < 0.5:
                b.add_identifier("AGE", gen.age())
            else:
                b.add(str(rng.randrange(18, 89)))  # an age that is not an identifier: must stay
        else:
            b.add_identifier("DATE", gen.date())
        pos = m.end()
    b.add(value[pos:])


def generate(seed: int = 13, limit: int = 0) -> Iterator[dict]:
    """Every report of both sources with identifiers inserted; ``limit`` caps the rows read from each."""
    rng = random.Random(seed)
    sources: list[tuple[str, Path, Callable[[dict[str, str], Gen, random.Random, str], Builder]]] = [
        ("mtsamples", MTSAMPLES, lambda row, g, r, s: mtsamples_report(row.get("transcription") or "", g, r, s)),
        ("iu", IU, iu_report),
    ]
    for source, path, make in sources:
        with path.open(newline="", encoding="utf-8") as f:
            rows = [r for r in csv.DictReader(f) if any((r.get(k) or "").strip() for k in
                                                        ("transcription", "findings", "impression"))]
        for i, row in enumerate(rows[: limit or None]):
            split = _split(i)
            b = make(row, Gen(rng, split), rng, split)
            yield {"id": f"{source}-{i}", "source": source, "split": split, "text": b.text, "spans": b.spans}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT, help=f"JSONL to write (default {DEFAULT_OUT})")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--limit", type=int, default=0, help="rows of each source (default: all)")
    args = ap.parse_args(argv)
    for path in (MTSAMPLES, IU):
        if not path.exists():
            raise SystemExit(f"{path} not found: set MEDKG_DATA to the shared data folder")
    repo = Path(__file__).resolve().parents[1]
    if args.out.resolve().is_relative_to(repo):
        raise SystemExit(f"{args.out}: the test set holds MTSamples and IU text; write it outside the repository")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    counts: Counter[tuple[str, str]] = Counter()
    with args.out.open("w", encoding="utf-8") as out:
        for record in generate(args.seed, args.limit):
            for s in record["spans"]:
                assert record["text"][s["start"] : s["end"]].strip(), s
                counts[(record["split"], s["type"])] += 1
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}: " + ", ".join(f"{split}/{t} {n}" for (split, t), n in sorted(counts.items())),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
