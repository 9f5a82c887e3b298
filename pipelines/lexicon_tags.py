"""spaCy component ``medkg_lexicon_tags``: vocabulary matches as token features for the NER model.

The NER model has no pretrained word vectors (none can be had offline here),
so on its own it knows a word only from the training corpora. The vocabulary
knows hundreds of thousands of chemical and disease names. This component runs
the dictionary over the text and writes, for each token, where it sits in a
match and of which semantic group (``B-CHEM``, ``I-DISO``, ``B-OTHER``...) into
``token.tag_``, which nothing else in medkg's pipeline uses (there is no
part-of-speech tagger); the NER model's embedding layer hashes ``TAG`` as one
more feature beside the word's form, prefix, suffix and shape. The model thus
learns how far to trust a dictionary match, and still finds names the
vocabulary lacks.

The matches are kept on the doc (``doc._.lexicon_matches``) so that the linking
component after the NER model does not run the dictionary a second time.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from medkg.pipelines.lexicon import Lexicon, cached_lexicon

TAG_GROUPS = ("CHEM", "DISO")

if not Doc.has_extension("lexicon_matches"):
    Doc.set_extension("lexicon_matches", default=None)


def match_group(lexicon: Lexicon, cands: tuple[tuple[str, bool], ...]) -> str:
    groups = {lexicon.concepts[cid][1] for cid, _ in cands if cid in lexicon.concepts}
    return next((g for g in TAG_GROUPS if g in groups), "OTHER")


class LexiconTagger:
    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    def __call__(self, doc: Doc) -> Doc:
        matches = list(self.lexicon.find(doc.text))
        doc._.lexicon_matches = matches
        for start, end, cands, _ in matches:
            span = doc.char_span(start, end, alignment_mode="expand")
            if span is None:
                continue
            group = match_group(self.lexicon, cands)
            for i, token in enumerate(span):
                token.tag_ = f"{'B' if i == 0 else 'I'}-{group}"
        return doc


@Language.factory("medkg_lexicon_tags", default_config={"lexicon_path": ""})
def make_lexicon_tagger(nlp: Language, name: str, lexicon_path: str) -> LexiconTagger:
    return LexiconTagger(cached_lexicon(lexicon_path))
