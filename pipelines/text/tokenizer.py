"""The tokenizer every medkg pipeline shares: spaCy's English rules plus three splits for biomedical text.

The NER model is trained and run on these tokens, so a mention can only be
found if it starts and ends on a token boundary. spaCy's English rules keep
together a few patterns that abstracts use all the time:

- a bracket inside a word: "nitroglycerin (NTG)-induced" leaves the token
  ``NTG)-induced``, so neither the NER model nor scispaCy's abbreviation
  detector sees the short form ``NTG`` (nor any of its later uses);
  "Na(v)1.5" and "[3H]saxitoxin" likewise;
- a hyphen between a letter and a digit: "thallium-201", "serotonin-1A";
- a suspended hyphen ("diazepam- and scopolamine-induced") and a full stop
  after a mixed-case short form ("... with AmB.").

With these splits 0.9% of BC5CDR's gold mentions still fall inside a token
(1.4% before), mostly names glued to a digit ("5-HT6").
"""

from __future__ import annotations

from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import compile_infix_regex, compile_suffix_regex

EXTRA_INFIXES = (
    r"[()\[\]]",  # any bracket inside a token
    r"(?<=[A-Za-z])-(?=[0-9])",  # thallium-201
)
EXTRA_SUFFIXES = (
    r"(?<=[A-Za-z])-",  # a suspended hyphen: "diazepam- and scopolamine-induced"
    r"(?<=[a-z][A-Z])\.",  # a sentence ending in a mixed-case short form: "... with AmB."
)


def blank_english() -> Language:
    """``spacy.blank("en")`` with medkg's extra infix rules."""
    nlp = spacy.blank("en")
    tokenizer: Any = nlp.tokenizer  # spaCy's Tokenizer (typed as any callable)
    infixes = list(nlp.Defaults.infixes or ()) + list(EXTRA_INFIXES)
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    suffixes = list(nlp.Defaults.suffixes or ()) + list(EXTRA_SUFFIXES)
    tokenizer.suffix_search = compile_suffix_regex(suffixes).search
    return nlp


_TEXT = "medkg_text"


def remember_text(doc: Doc, text: str) -> Doc:
    """Record the text ``doc`` was made from (spaCy's tokenizer keeps it exactly), so :func:`doc_text` never
    joins the tokens."""
    doc.user_data[_TEXT] = text
    return doc


def doc_text(doc: Doc) -> str:
    """``doc.text``, joined once per document: spaCy's ``Doc.text`` joins every token on each access, and the
    pipeline's seven steps each need it (about 0.3 ms an abstract each, a fifth of the front end's time)."""
    text = doc.user_data.get(_TEXT)
    size = doc[-1].idx + len(doc[-1].text_with_ws) if len(doc) else 0
    if not isinstance(text, str) or len(text) != size:  # not joined yet, or copied along from another doc
        text = doc.user_data[_TEXT] = doc.text
    return text
