"""spaCy component ``medkg_mentions``: the trained NER and the dictionary, combined and linked.

Two mention finders with opposite strengths run before this component:

- the statistical NER model (:mod:`medkg.pipelines.ner.training`) knows where a
  chemical or disease mention *begins and ends* the way the annotated corpora
  do ("cisplatin-induced nephrotoxicity" is the chemical "cisplatin" and the
  disease "nephrotoxicity"), including names no vocabulary spells, but it knows
  nothing of concept ids and only two entity types;
- the vocabulary dictionary (:class:`~medkg.pipelines.linking.lexicon.Lexicon`) knows
  every term of every concept, of every semantic group (anatomy, procedures,
  organisms...), but not which of them the text means as an entity.

This component takes the NER spans first and links each (exact term, else
approximate TF-IDF candidates of the span's group; see
:mod:`medkg.pipelines.linking.choose`); an NER span that cannot be linked confidently
is dropped. Dictionary matches that overlap no NER span are then added:
always for the groups the NER model does not cover (anatomy, procedures...);
for chemicals and diseases it depends on ``dictionary_fills_ner_groups``:
``"annotated"`` adds only matches on a name that a loaded annotated corpus used
(``medkg vocab load pubtator``), and not all-capital short forms, whose meaning
each document defines; ``"none"`` adds no chemical or disease the model
missed, ``"all"`` adds every one; ``"priors"`` adds, besides the annotated
names, every match whose kind of concept is a mention at least 80% of the time
in the NER model's training files (:mod:`medkg.pipelines.linking.priors`:
"quetiapine", an organic compound, yes; "placebo" or "dopamine receptor", no).
The default, ``"auto"``, is ``"priors"`` when the NER model comes with priors,
else ``"annotated"`` when annotated names are loaded (they say what annotators
count as a mention) and ``"all"`` when not (a graph is better served by recall
than by a model that has never seen the user's texts). Without a NER model in
the pipeline every dictionary match is kept.

The priors also decide when a longer dictionary match replaces the model's
span: "type 2 diabetes" around the model's "diabetes" does, being an annotated
name or a kind of concept that is a mention more often than not; "dopamine
receptor" around "dopamine" (a protein) does not. Priors learnt on BC5CDR and
NCBI-disease raised BC5CDR dev strict span + id F1 from 0.795 to 0.813, and
0.686 to 0.737 without annotated names loaded.

In clinical reports (``doc._.clinical``, tier 1) every dictionary match is kept: the model learnt what a
mention is from abstracts, and the findings radiologists and clinicians write ("scar", "hiatal hernia",
"spondylosis") are mostly names it never saw marked.

The model tells where a mention is better than what it is: an NER span whose
exact term names only concepts of the other NER group ("melatonin" taken for a
disease) takes that group when the priors count its kind as a mention more
often than not. And "mm Hg" or "cm H2O" are units, never mercury or water.

A dictionary match the priors would leave out is kept when the document
defines a short form for it ("all-trans-retinoic acid (ATRA)", the short form
spelling the match) and either the model marked that short form as the match's
group or the match's kind is a mention at least half the time and no gene
product (proteins and enzymes get short forms too, "vascular endothelial growth
factor (VEGF)", and BC5CDR marks none): BC5CDR dev 0.8396 -> 0.8408, the
held-out tenth unchanged.

``span._.link`` holds the link and ``span._.char_span`` the character offsets;
the span's label is the semantic group of the linked concept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from spacy.tokens import Doc, Span
from spacy.util import filter_spans, minibatch

from medkg.errors import MedKGError
from medkg.kg.records import Link
from medkg.ontologies.terms import TOKEN_RE, normalise, singular
from medkg.pipelines.abbreviations.definitions import defined_short_form
from medkg.pipelines.abbreviations.resolver import GENE_PRODUCT_BRANCHES
from medkg.pipelines.context.rules import FAMILY_PRE, HISTORICAL_PRE, NEGATION_PRE, UNCERTAIN_PRE
from medkg.pipelines.linking.choose import approximate_link, choose_link, in_group
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.linking.priors import MatchPriors
from medkg.pipelines.ner import lexicon_tags as _lexicon_tags  # noqa: F401  (registers doc._.lexicon_matches)
from medkg.pipelines.text import sections as _sections  # noqa: F401  (registers doc._.clinical)
from medkg.pipelines.text.tokenizer import doc_text

NER_GROUPS = {"Chemical": "CHEM", "Disease": "DISO"}
DEFINED_PRIOR = 0.5  # a defined match of a kind at least this often a mention is one
FILL_POLICIES = ("auto", "none", "annotated", "priors", "all")
FILL_PRIOR = 0.8  # a match the model left out is added when its kind is a mention this often
LONGER_PRIOR = 0.5  # a longer match replaces the model's span when its kind is a mention more often than not
RETYPE_PRIOR = 0.5  # the dictionary's group replaces the model's when its kind is a mention more often than not
OTHER_NER_GROUP = {"CHEM": "DISO", "DISO": "CHEM"}

if not Span.has_extension("link"):
    Span.set_extension("link", default=None)
    Span.set_extension("char_span", default=None)


# cue words a model trained on abstracts may take into a span of clinical text ("Denies chest pain"); the span
# without them is the mention, and medkg_context then reads them as the cue they are
LEADING_CUES = tuple(sorted({f"{c} " for c in (*NEGATION_PRE, *UNCERTAIN_PRE, *HISTORICAL_PRE, *FAMILY_PRE)},
                            key=len, reverse=True))


_LEADING_CUE = re.compile("|".join(re.escape(c) for c in LEADING_CUES), re.IGNORECASE)  # longest first


# pressure units name an element or water: "120 mm Hg" holds no mercury, "5 cm H2O" no water (35 false
# mercury mentions on BC5CDR dev)
_UNIT_SYMBOL = re.compile(r"Hg|H2O|H\(2\)O")
_UNIT_PREFIX = re.compile(r"(?:^|[^A-Za-z])[mc]m\s*$")


def _is_unit(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is the symbol of a pressure unit ("mm Hg", "cmH2O")."""
    return _UNIT_SYMBOL.fullmatch(text, start, end) is not None and \
        _UNIT_PREFIX.search(text[max(0, start - 6) : start]) is not None


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """A span without cue words in front and the hyphens, stops and trailing charge signs its tokens carried
    ("(+)-cibenzoline", "MDMA+ users": no BC5CDR mention ends in "+")."""
    while (cue := _LEADING_CUE.match(text, start, end)) is not None:
        start = cue.end()
    while start < end and text[start] in "-.,;: ":
        start += 1
    while end > start and text[end - 1] in "-.,;:+ ":
        end -= 1
    return start, end


def _names_taken(text: str, linked: list[tuple[int, int, Link]], lexicon: Lexicon) -> dict[str, str]:
    """The chemicals' and diseases' linked mentions of a document: lower-cased text -> concept id."""
    return {text[s:e].lower(): link.concept_id for s, e, link in linked
            if lexicon.concepts[link.concept_id][1] in NER_GROUPS.values()}


def _named_elsewhere(text: str, start: int, end: int, link: Link, named: dict[str, str]) -> bool:
    """Whether the document's linked mentions include this dictionary match's text, linked to its concept.

    One name, one meaning within an abstract: where the model marked "Coenzyme Q10" once and left its other
    seven occurrences out (or took "blood ammonia" for the mention where the next sentence says "ammonia"),
    the model's verdict on one occurrence holds for the others. Not for all-capital short forms, which the
    same abstract may use for a gene and its disease ("APC"). BC5CDR dev +0.0010, NCBI-disease dev +0.0008,
    held-out NCBI tenth +0.004, held-out BC5CDR tenth -0.0013 (three mentions), training documents unchanged.
    """
    name = text[start:end]
    return not name.isupper() and named.get(name.lower()) == link.concept_id


# a protein named after what it binds or makes: BC5CDR marks the chemical inside ("norepinephrine transporter")
_PRODUCT_OF = re.compile(r"(.+?)[\s-]+(?:[A-Z0-9]{1,4}\s+)?(?:receptors?|transporters?|channels?|synthases?|"
                         r"synthetases?|polymerases?|decarboxylases?|dehydrogenases?|oxidases?|kinases?|"
                         r"hydroxylases?|esterases?)")


def _named_inside(text: str, hits: list[tuple[int, int, tuple[tuple[str, bool], ...], bool]], lexicon: Lexicon
                  ) -> list[tuple[int, int, tuple[tuple[str, bool], ...], bool]]:
    """Chemicals and diseases that dictionary matches of receptors, transporters and enzymes are named after.

    The longest match of "norepinephrine transporter" is the protein, and the dictionary looks no further; but
    BC5CDR marks the chemical inside such names (on its training split, 63 of 77 receptor, enzyme and
    transporter names that start with a chemical or disease term had the inner name marked, none the whole).
    The inner name becomes one more dictionary match, kept or not by the usual rules.
    """
    found = []
    for start, end, _, _ in hits:
        m = _PRODUCT_OF.fullmatch(text, start, end)
        if m is None:
            continue
        name = m.group(1)
        if name.count("(") != name.count(")"):
            continue  # "N-methyl-D-aspartate (NMDA) receptor": not "NMDA)"
        inner = lexicon.lookup(name)
        if inner and any(lexicon.concepts[cid][1] in NER_GROUPS.values() for cid, _ in inner[0]):
            found.append((start, m.end(1), inner[0], inner[1]))
    return found


def _clinical_matches(text: str, hits: list[tuple[int, int, tuple[tuple[str, bool], ...], bool]],
                      ner: list[tuple[int, int, str]], lexicon: Lexicon
                      ) -> list[tuple[int, int, tuple[tuple[str, bool], ...], bool]]:
    """``hits`` with the matches of the clinical lexicon (:mod:`medkg.pipelines.linking.clinical`) added where no
    other match is, or where one covers every match it overlaps and is longer (the longest match wins, as in the
    dictionary: a learned "interstitial edema" over the "edema" inside it); those it covers are dropped.

    A derived adjective right before a disease mention describes that mention and names nothing of its own:
    "calcified granuloma" is a granuloma, "atherosclerotic aorta" is atherosclerosis.
    """
    assert lexicon.clinical is not None
    # NER spans do not block a clinical match: a linked span wins over it later, and one no link is found for
    # ("Atherosclerotic calcifications", unknown to every term) keeps the matches inside it, as dictionary ones
    taken = [(s, e) for s, e, _, _ in hits]
    disease_starts = {s for s, _, g in ner if g == "DISO"} | {
        s for s, _, cands, _ in hits if any(lexicon.concepts[cid][1] == "DISO" for cid, _ in cands)}
    out = []
    covered: set[tuple[int, int]] = set()
    for start, end, cands, case in lexicon.clinical.find(text):
        over = [(ts, te) for ts, te in taken if start < te and ts < end]
        if any(ts < start or end < te or te - ts >= end - start for ts, te in over):
            continue
        nxt = _NEXT_WORD.match(text, end)
        if normalise(text[start:end]) in lexicon.clinical_adjectives and nxt and nxt.end() in disease_starts:
            continue
        covered.update(over)
        out.append((start, end, cands, case))
    # A predicative clause names its noun ("the heart is enlarged"), an organ the dictionary matches on its own:
    # only a disease match inside the clause blocks it; the longer clause wins over the organ later.
    diseases = [(s, e) for s, e, cands, _ in hits if any(lexicon.concepts[cid][1] == "DISO" for cid, _ in cands)]
    pattern = lexicon.predicative_pattern()
    for m in pattern.finditer(text) if pattern else ():
        cid = lexicon.clinical_predicates.get((singular(m.group("noun").lower()), m.group("adj").lower()))
        if cid and not any(m.start() < te and ts < m.end() for ts, te in diseases):
            out.append((m.start(), m.end(), ((cid, False),), False))
    return [h for h in hits if (h[0], h[1]) not in covered] + out


_NEXT_WORD = re.compile(r"[\s-]+(?=\w)")


# words of a disease's course that both BC5CDR and NCBI-disease leave out of the mention ("severe anemia")
_COURSE_WORD = re.compile(r"(?:severe|mild|progressive|recurrent|prolonged|persistent|fatal|transient|increased)\s+",
                          re.IGNORECASE)


@dataclass
class _State:
    """One document between the batch's steps."""

    doc: Doc
    text: str
    ner_ran: bool
    dictionary: list[tuple[int, int, Link]]
    linked: list[tuple[int, int, Link]]
    unresolved: list[tuple[int, int, str]]


class MentionFinder:
    """Link NER spans, then add the dictionary's other matches, as ``doc.ents``."""

    def __init__(self, lexicon: Lexicon, dictionary: bool = True, approximate: bool = True,
                 dictionary_fills_ner_groups: str = "auto", priors: MatchPriors | None = None) -> None:
        if dictionary_fills_ner_groups not in FILL_POLICIES:
            raise MedKGError(f"dictionary_fills_ner_groups: {dictionary_fills_ner_groups!r} is not one of "
                             f"{', '.join(FILL_POLICIES)}")
        if dictionary_fills_ner_groups == "priors" and priors is None:
            raise MedKGError("dictionary_fills_ner_groups 'priors' needs a NER model trained with match priors "
                             "(match_priors.json beside it); re-run 'medkg train ner'")
        self.lexicon = lexicon
        self.dictionary = dictionary
        self.approximate = approximate and lexicon.candidates is not None
        self.priors = priors
        if dictionary_fills_ner_groups == "auto":
            dictionary_fills_ner_groups = "priors" if priors else "annotated" if lexicon.annotated else "all"
        self.fill_ner_groups = dictionary_fills_ner_groups

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 32) -> Iterator[Doc]:
        """Documents a batch at a time: the NER spans no exact look-up links go to TF-IDF in one query.

        scispaCy's candidate generator pays a fixed cost per call (vectoriser, nmslib batch): one call for
        32 abstracts instead of 32 calls makes the approximate step about 2.5 times faster.
        """
        for batch in minibatch(docs, batch_size):
            states = [self._prepare(doc) for doc in batch]
            if self.approximate:
                self._link_approximate(states)
            for state in states:
                yield self._finish(state)

    def _prepare(self, doc: Doc) -> _State:
        """NER spans trimmed and linked exactly where they can be; the dictionary's matches."""
        ner_ran = doc.has_annotation("ENT_IOB")
        text = doc_text(doc)
        ner = [(*_trimmed(text, e.start_char, e.end_char), NER_GROUPS[e.label_]) for e in doc.ents
               if e.label_ in NER_GROUPS]
        ner = [(s, e, g) for s, e, g in ner if s < e and not _is_unit(text, s, e)]
        hits = doc._.lexicon_matches  # set by medkg_lexicon_tags when it ran
        if hits is None:
            hits = list(self.lexicon.find(text)) if self.dictionary or ner_ran else []
        hits = list(hits) + _named_inside(text, hits, self.lexicon)
        if doc._.clinical and self.lexicon.clinical is not None:
            hits = _clinical_matches(text, hits, ner, self.lexicon)
        dictionary = [(s, e, self._dictionary_link(text, s, e, cands, case)) for s, e, cands, case in hits
                      if not _is_unit(text, s, e)]
        linked, unresolved = self._link_exact(text, ner, dictionary)
        return _State(doc, text, ner_ran, dictionary, linked, unresolved)

    def _finish(self, st: _State) -> Doc:
        """The linked spans, then the dictionary's matches that fill what they leave, as ``doc.ents``."""
        doc, text = st.doc, st.text
        spans = [self._span(doc, s, e, link) for s, e, link in st.linked]
        if self.dictionary:
            taken = [(s, e) for s, e, _ in st.linked]
            # NER spans no link was found for: the model still said a chemical or disease is there
            dropped = [(s, e, g) for s, e, g in st.unresolved if (s, e) not in taken]
            named = _names_taken(text, st.linked, self.lexicon)
            for start, end, link in st.dictionary:
                if any(start < te and ts < end for ts, te in taken):
                    continue
                inside = any(s <= start and end <= e and self._group(link) == g for s, e, g in dropped)
                if inside or doc._.clinical or self._fills(text, start, end, link, st.ner_ran) or \
                        _named_elsewhere(text, start, end, link, named) or \
                        self._vouched_by_definition(doc, text, start, end, link, dropped):
                    spans.append(self._span(doc, start, end, link))
        doc.ents = filter_spans([s for s in spans if s is not None])
        return doc

    def _dictionary_link(self, text: str, start: int, end: int, cands: tuple[tuple[str, bool], ...],
                         case: bool) -> Link:
        return choose_link(cands, self.lexicon, case, annotated=self.lexicon.annotated_choice(text[start:end]),
                           text=text[start:end])

    def _link_exact(self, text: str, ner: list[tuple[int, int, str]], dictionary: list[tuple[int, int, Link]]
                    ) -> tuple[list[tuple[int, int, Link]], list[tuple[int, int, str]]]:
        """NER spans linked to a longer dictionary match of their group or by exact look-up; and the rest."""
        linked: list[tuple[int, int, Link]] = []
        unresolved: list[tuple[int, int, str]] = []
        for start, end, group in ner:
            # "type 2 diabetes" in the dictionary is a better mention than the model's "diabetes"
            longer = [(s, e, link) for s, e, link in dictionary
                      if s <= start and end <= e and e - s > end - start and self._group(link) == group
                      and self._likely_mention(text[s:e], link, LONGER_PRIOR)]
            if longer:
                linked.append(longer[0])
                continue
            found = self.lexicon.lookup(text[start:end])
            if found and not in_group(found[0], self.lexicon, group):
                group = self._retyped(text[start:end], found, group)
            if found and in_group(found[0], self.lexicon, group):
                annotated = self.lexicon.annotated_choice(text[start:end])
                linked.append((start, end, choose_link(found[0], self.lexicon, found[1], group, annotated,
                                                       text[start:end])))
            else:
                unresolved.append((start, end, group))
        return linked, unresolved

    def _retyped(self, text: str, found: tuple[tuple[tuple[str, bool], ...], bool], group: str) -> str:
        """The other NER group when the span's exact term names only concepts of it, of a kind likely a mention.

        In clinical reports (``doc._.clinical``, tier 1) every dictionary match is kept: the model learnt what a
mention is from abstracts, and the findings radiologists and clinicians write ("scar", "hiatal hernia",
"spondylosis") are mostly names it never saw marked.

The model tells where a mention is better than what it is: it took "melatonin" for a disease ten times
        on BC5CDR dev, and the dictionary, which names a hormone there, is right.
        """
        other = OTHER_NER_GROUP[group]
        if in_group(found[0], self.lexicon, other) and self._likely_mention(
                text, choose_link(found[0], self.lexicon, found[1], other), RETYPE_PRIOR):
            return other
        return group

    def _link_approximate(self, states: list[_State]) -> None:
        """Link every state's unresolved NER spans of more than one word through TF-IDF candidates (one query).

        A single word no term spells is a misspelling or, far more often, another word: its character 3-grams
        find a different drug or disease ("prostigmine" -> Isoflurophate, "steatosis" -> Steatitis). Over the dev
        splits and training documents of BC5CDR and NCBI-disease 6 such links were right, 49 wrong and 18
        spurious.
        """
        todo = [(st, start, end, group) for st in states for start, end, group in st.unresolved
                if len(TOKEN_RE.findall(st.text, start, end)) > 1]
        if not todo:
            return
        assert self.lexicon.candidates is not None
        found = self.lexicon.candidates([st.text[s:e] for st, s, e, _ in todo])
        for (st, start, end, group), cands in zip(todo, found):
            link = approximate_link(cands, self.lexicon, group, text=st.text[start:end])
            if link is not None:
                st.linked.append((self._unqualified(st.text, start, end, link), end, link))

    def _unqualified(self, text: str, start: int, end: int, link: Link) -> int:
        """Where a TF-IDF-linked span starts once the course words in front that annotators leave out are
        dropped ("transient renal failure" is the exact term "renal failure"), if what remains is an exact term
        of the linked concept; else ``start``.

        Both training splits leave these words out of the mention: "severe" 95 times (6 in), "mild" 22 (1),
        "progressive" 23 (4), "recurrent" 25 (2), "prolonged", "persistent", "fatal", "transient", "increased"
        49 (8); unlike "acute", "chronic", "malignant" or "hereditary", which they keep about as often or more.
        """
        at = start
        while (word := _COURSE_WORD.match(text, at, end)) is not None:
            at = word.end()
            found = self.lexicon.lookup(text[at:end])
            if found and any(cid == link.concept_id for cid, _ in found[0]):
                return at
        return start

    def _fills(self, text: str, start: int, end: int, link: Link, ner_ran: bool) -> bool:
        """Whether a dictionary match that no linked NER span covers becomes a mention."""
        if not ner_ran or self._group(link) not in NER_GROUPS.values() or self.fill_ner_groups == "all":
            return True
        if self.fill_ner_groups not in ("annotated", "priors"):
            return False
        # all-capital short forms mean what each document defines, not what a corpus did; the priors count
        # capitals apart, so they still judge an acronym's kind
        if link.method == "dictionary:annotated" and not text[start:end].isupper():
            return True
        return self.fill_ner_groups == "priors" and self.priors is not None and \
            self.priors.of_text(self.lexicon, text[start:end]) >= FILL_PRIOR

    def _vouched_by_definition(self, doc: Doc, text: str, start: int, end: int, link: Link,
                               dropped: list[tuple[int, int, str]]) -> bool:
        """Whether the document defines a short form for a dictionary match, and that vouches for the match.

        In "13-cis-retinoic acid (cis-RA)" the model marks "cis-RA" a chemical, which no term spells; the
        match's kind of concept (``D02+D23``) is one the training files never matched, so its prior alone would
        leave it out. The definition says both are one chemical: the match is kept, and the abbreviation step
        links every "cis-RA" to it. Where the model marked nothing ("all- trans-retinoic acid (ATRA)"), a
        definition still vouches for a match of a kind that is a mention half the time, unless it names a gene
        product ("vascular endothelial growth factor (VEGF)").
        """
        found = defined_short_form(doc, text, start, end)
        if found is None and doc.has_extension("abbreviations"):
            found = next(((a.start_char, a.end_char) for a in doc._.abbreviations if a._.long_form is not None
                          and (a._.long_form.start_char, a._.long_form.end_char) == (start, end)), None)
        if found is None:
            return False
        group = self._group(link)
        if any((s, e, g) == (*found, group) for s, e, g in dropped):
            return True
        gene_product = bool(set(self.lexicon.concepts[link.concept_id][2]) & GENE_PRODUCT_BRANCHES)
        return not gene_product and self.priors is not None and \
            self.priors.of_text(self.lexicon, text[start:end]) >= DEFINED_PRIOR

    def _likely_mention(self, text: str, link: Link, threshold: float) -> bool:
        """Whether a dictionary match is an annotated name or of a kind the priors count as a mention this often.

        Without priors every match qualifies (the behaviour of models trained before them).
        """
        if self.priors is None or link.method == "dictionary:annotated":
            return True
        return self.priors.of_text(self.lexicon, text) >= threshold

    def _group(self, link: Link) -> str:
        return self.lexicon.concepts[link.concept_id][1]

    def _span(self, doc: Doc, start: int, end: int, link: Link) -> Span | None:
        span = doc.char_span(start, end, label=self._group(link), alignment_mode="expand")
        if span is not None:
            span._.link = link
            span._.char_span = (start, end)
        return span
