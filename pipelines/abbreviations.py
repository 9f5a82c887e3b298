"""spaCy component ``medkg_abbreviations``: a document's own abbreviations decide what they mean.

Abstracts define their abbreviations once ("... glucose-6-phosphate
dehydrogenase (G6PD) ...") and then use the short form throughout. A global
acronym table gets these wrong in both directions: "PD" is Parkinson disease
in one abstract and peritoneal dialysis in the next, and a short form coined by
the authors is in no vocabulary at all. scispaCy's ``abbreviation_detector``
(Schwartz & Hearst, 2003) finds the definitions; this component, which runs
after the dictionary matcher, applies them:

- when the long form is a linked mention (the whole long form, or failing that
  the longest mention that ends where it ends), every occurrence of the short
  form is linked to the same concept, replacing whatever the dictionary said
  about that span (method ``abbreviation``);
- when the long form names nothing the vocabulary knows, dictionary links on
  the short form are dropped: the document has said what the letters mean,
  and it is not what the acronym table guessed.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from medkg.pipelines.records import Link


class AbbreviationLinker:
    """Re-link or drop short-form mentions according to the document's own definitions."""

    def __call__(self, doc: Doc) -> Doc:
        if not doc.has_extension("abbreviations") or not doc._.abbreviations:
            return doc
        ents = list(doc.ents)
        by_long: dict[tuple[int, int], list[Span]] = {}
        for short in doc._.abbreviations:
            long = short._.long_form
            if long is not None:
                by_long.setdefault((long.start_char, long.end_char), []).append(short)
        replaced: list[Span] = []
        dropped: set[tuple[int, int]] = set()
        for (lstart, lend), shorts in by_long.items():
            source = _long_form_mention(ents, lstart, lend)
            for short in shorts:
                if source is None:
                    dropped.add((short.start_char, short.end_char))
                    continue
                span = Span(doc, short.start, short.end, label=source.label_)
                link: Link = source._.link
                span._.link = Link(concept_id=link.concept_id, score=round(link.score * 0.95, 3),
                                   method="abbreviation", alternatives=link.alternatives)
                span._.char_span = (short.start_char, short.end_char)
                replaced.append(span)
        if not replaced and not dropped:
            return doc
        covered = {(s.start_char, s.end_char) for s in replaced} | dropped
        kept = [e for e in ents if (e.start_char, e.end_char) not in covered
                and not any(r.start < e.end and e.start < r.end for r in replaced)]
        doc.ents = filter_spans(kept + replaced)
        return doc


def _long_form_mention(ents: list[Span], start: int, end: int) -> Span | None:
    exact = [e for e in ents if e.start_char == start and e.end_char == end]
    if exact:
        return exact[0]
    inside = [e for e in ents if start <= e.start_char and e.end_char == end]
    return max(inside, key=lambda e: e.end_char - e.start_char) if inside else None


@Language.factory("medkg_abbreviations")
def make_abbreviation_linker(nlp: Language, name: str) -> AbbreviationLinker:
    return AbbreviationLinker()
