"""spaCy component ``medkg_salts``: a drug named with its salt is one chemical mention ("bupropion HCl").

Drugs are given, and written, as salts: "bupropion HCl", "netilmicin sulfate", "fenoprofen calcium". BC5CDR
annotates the whole name as one chemical and links it to the drug's own MeSH concept (57 of the 69 such names
in its training split, 71 of 73 in development; "nicotine sulfate" is the main exception). The vocabulary
spells a few of these names ("Atropine Sulfate" is an entry term of Atropine) and the NER model learnt some;
the others came out as the drug alone, a wrong span.

A chemical mention followed by a salt word takes it in. The link is the whole name's exact term when the
vocabulary has one (the annotators' choice first), else the drug's. A cation word ("sodium", "calcium") that
goes on to name something else ("dihydropyridine calcium antagonist", "sodium channel") is no salt; nor is a
salt word that begins a longer mention. A mention on the salt word alone ("potassium") gives way.

Measured on BC5CDR (strict span + id F1): dev 0.8372 -> 0.8382, held-out tenth of the training split
0.8437 -> 0.8447, training documents 0.9611 -> 0.9600 ("nicotine sulfate" six times in one abstract).
"""

from __future__ import annotations

import re

from spacy.tokens import Doc

from medkg.kg.records import Link
from medkg.pipelines.linking.choose import choose_link
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.text.tokenizer import doc_text

_SALT = re.compile(
    r" (HCl|hydrochloride|dihydrochloride|hydrobromide|sulfate|sulphate|maleate|fumarate|mesylate|citrate|"
    r"acetate|tartrate|bitartrate|bromide|chloride|succinate|besylate|tosylate|lactate|gluconate|monohydrate|"
    r"sodium|disodium|potassium|calcium|magnesium)\b")
_CATIONS = frozenset(["sodium", "disodium", "potassium", "calcium", "magnesium"])
# words after a cation that make it the subject of another name ("calcium channel", "sodium intake")
_NOT_A_SALT = re.compile(
    r"[\s-]+(channels?|antagonists?|blockers?|entry|influx|currents?|levels?|concentrations?|intake|excretion|"
    r"content|homeostasis|ions?|salts?|dependent|chloride|bicarbonate|pump|load|retention|balance|"
    r"supplementation|supplements?)\b", re.IGNORECASE)


class SaltNames:
    """spaCy component: a drug written with its salt is one chemical mention linked to the drug."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)
        ents = list(doc.ents)
        for ent in [e for e in ents if e.label_ == "CHEM"]:
            start, end = ent._.char_span
            salt = _SALT.match(text, end)
            if salt is None or (salt.group(1).lower() in _CATIONS and _NOT_A_SALT.match(text, salt.end())):
                continue
            inside = [e for e in ents if e is not ent and e.start_char < salt.end() and end < e.end_char]
            if any(e.end_char > salt.end() or e.label_ != "CHEM" for e in inside):
                continue  # the salt word begins a longer mention ("calcium channel blocker") or another kind
            span = doc.char_span(start, salt.end(), label="CHEM", alignment_mode="expand")
            if span is None:
                continue
            span._.link, span._.char_span = self._link(text[start : salt.end()]) or ent._.link, (start, salt.end())
            ents = [span if e is ent else e for e in ents if not any(e is i for i in inside)]
        doc.ents = ents
        return doc

    def _link(self, name: str) -> Link | None:
        found = self.lexicon.lookup(name)
        if found is None:
            return None
        link = choose_link(found[0], self.lexicon, found[1], annotated=self.lexicon.annotated_choice(name), text=name)
        return link if self.lexicon.concepts[link.concept_id][1] == "CHEM" else None
