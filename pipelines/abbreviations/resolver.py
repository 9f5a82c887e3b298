"""spaCy component ``medkg_abbreviations``: a document's own abbreviations decide what they mean.

Abstracts define their abbreviations once ("... glucose-6-phosphate
dehydrogenase (G6PD) ...") and then use the short form throughout. A global
acronym table gets these wrong in both directions: "PD" is Parkinson disease
in one abstract and peritoneal dialysis in the next, and a short form coined by
the authors is in no vocabulary at all. scispaCy's ``abbreviation_detector``
(Schwartz & Hearst, 2003) finds the definitions, and
:mod:`medkg.pipelines.abbreviations.definitions` those it passes over ("testosterone
(T)", "diethylnitrosamine (DEN: 10 mg/kg/day)"); this component, which runs
after the dictionary matcher, applies them:

- when the long form is a linked mention (the whole long form, or failing that
  the longest mention that ends where it ends), every occurrence of the short
  form is linked to the same concept, replacing whatever was found on that span
  (method ``abbreviation``);
- when a mention overlaps the long form but none lines up with it (the model
  took "von Hippel-Lindau disease" where the definition is "von Hippel-Lindau
  (VHL)"), the long form's own text is linked: exact look-up, else its TF-IDF
  candidates among chemicals and diseases. A long form no mention touches is
  not linked this way: the NER model judged it no chemical or disease (a
  protein such as "vasoactive intestinal peptide (VIP)");
- when the long form names nothing the vocabulary knows, links on the short
  form are dropped: the document has said what the letters mean, and it is not
  what the acronym table guessed; unless the long form's TF-IDF candidates hold
  the short form's own concept ("3'-azido-3'dideoxythymidine (AZT)" is
  zidovudine, spelt as no term spells it).

Two long forms merely *contain* a disease or chemical name and are not one: a
name governed by a preposition ("deleted in colorectal cancer (DCC)", a gene)
and a gene product named after a disease ("WAS protein (WASP)", "Wilms tumor
gene (WT1)"). The first is not taken as the long form's mention, the second is
not looked for among the TF-IDF candidates of chemicals and diseases (its exact
term, such as MeSH's "Wiskott-Aldrich Syndrome Protein", still links). On
NCBI-disease dev these two rules removed 20 gene mentions taken for diseases.
Nor is a protein's short form a chemical mention when its long form names the
protein ("acetylcholine receptor (AChR)", "tyrosine hydroxylase (TH)"), as an
enzyme's never is.
"""

from __future__ import annotations

import re

from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from medkg.kg.records import Link
from medkg.pipelines.abbreviations.definitions import add_missed_definitions
from medkg.pipelines.linking.choose import approximate_link, choose_link
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.text.tokenizer import doc_text

# a long form whose mention follows one of these is about something *in* or *of* the disease ("deleted in ...")
PREPOSITIONS = frozenset(["in", "of", "for", "to", "with", "by", "on", "against", "from", "at", "within"])
# a long form ending in one of these names a gene or its product, even when a disease names it ("WAS protein")
GENE_PRODUCT_HEADS = frozenset(
    ["protein", "proteins", "gene", "genes", "receptor", "receptors", "kinase", "enzyme", "antigen", "factor",
     "peptide", "channel", "transporter", "product", "locus", "mrna", "domain"])
# a long form of at most this many words is a chemical's whole name, not the detector reaching too far back
CHEMICAL_NAME_WORDS = 3
PROTEIN_WORDS = frozenset(["receptor", "transporter", "channel", "protein", "kinase", "enzyme", "antigen"])
# words ending in "-ase" that name no enzyme
NOT_ENZYMES = frozenset(["disease", "increase", "decrease", "release", "phase", "base", "case", "ease"])
# MeSH branches of gene products: enzymes (D08) and amino acids, peptides, proteins (D12)
GENE_PRODUCT_BRANCHES = frozenset({"D08", "D12"})
ENZYME_BRANCHES = frozenset({"D08"})
# TF-IDF similarity at which a long form no mention covers still spells its short form's own concept
SPELT_ALIKE = 0.7
SPELT_ALIKE_CANDIDATES = 30  # "2-mercaptoethane sulphonate (MESNA)": Mesna is the 20th candidate, at 0.80


class AbbreviationLinker:
    """Re-link or drop short-form mentions according to the document's own definitions."""

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon

    def __call__(self, doc: Doc) -> Doc:
        if not doc.has_extension("abbreviations"):
            return doc
        ents = list(doc.ents)
        text = doc_text(doc)
        add_missed_definitions(doc, ents, self.lexicon)
        if not doc._.abbreviations:
            return doc
        by_long: dict[tuple[int, int], list[Span]] = {}
        for short in doc._.abbreviations:
            long = short._.long_form
            if long is not None:
                by_long.setdefault((long.start_char, long.end_char), []).append(short)
        replaced: list[Span] = []
        dropped: set[tuple[int, int]] = set()
        for (lstart, lend), shorts in by_long.items():
            source = _long_form_mention(ents, lstart, lend, text, shorts[0].text)
            found: tuple[str, Link] | None
            if source is not None and _governed(text[lstart : source.start_char]):
                found = None  # "deleted in colorectal cancer (DCC)": a gene named after the disease
            elif source is not None:
                found = (source.label_, source._.link)
            elif any(e.start_char < lend and lstart < e.end_char for e in ents):
                found = self._link_text(shorts[0]._.long_form.text)  # a mention overlaps it, none lines up
            else:
                found = None
            if found is None and source is None:
                found = self._spelt_like_short_form(ents, shorts)
            if found is not None and (self._enzyme(found[1]) or self._protein(found[1], text[lstart:lend])):
                found = None  # "nitric oxide synthase (NOS)": the letters name a gene product, no chemical mention
            for short in shorts:
                if self._part_of_longer(ents, short, found):
                    continue
                if found is None:
                    dropped.add((short.start_char, short.end_char))
                    continue
                replaced.append(_short_form_span(short, found))
        if not replaced and not dropped:
            return doc
        covered = {(s.start_char, s.end_char) for s in replaced} | dropped
        kept = [e for e in ents if (e.start_char, e.end_char) not in covered
                and not any(r.start < e.end and e.start < r.end for r in replaced)]
        doc.ents = filter_spans(kept + replaced)
        return doc

    def _spelt_like_short_form(self, ents: list[Span], shorts: list[Span]) -> tuple[str, Link] | None:
        """The short form's own link, when no mention is its long form but the long form spells its concept.

        "3'-azido-3'dideoxythymidine (AZT)": no term spells the long form, so no mention is it, but the model
        marked "AZT", the dictionary links it to Zidovudine, and the long form's TF-IDF candidates hold
        Zidovudine ("3'-Azido-3'-deoxythymidine") at 0.7 or more: the definition confirms the short form's
        meaning rather than overruling it. A gene or its product ("von Hippel-Lindau tumor suppressor gene
        (VHL)") is not asked. BC5CDR dev +0.0013 (AZT, MESNA, MIBG, PTZ, SIADH), elsewhere unchanged.
        """
        long = shorts[0]._.long_form.text
        if self.lexicon is None or self.lexicon.candidates is None or \
                long.split()[-1].lower() in GENE_PRODUCT_HEADS:
            return None
        own = next((e for short in shorts for e in ents if e.label_ in ("CHEM", "DISO")
                    and (e.start_char, e.end_char) == (short.start_char, short.end_char)), None)
        if own is None:
            return None
        if any(c.concept_id == own._.link.concept_id and c.similarity >= SPELT_ALIKE
               for c in self.lexicon.candidates([long], k=SPELT_ALIKE_CANDIDATES)[0]):
            return (own.label_, own._.link)
        return None

    def _part_of_longer(self, ents: list[Span], short: Span, found: tuple[str, Link] | None) -> bool:
        """Whether a longer mention holds this short form, which is then part of it rather than a mention.

        A gene's short form (an enzyme or other protein) or one the document defines as nothing linkable is
        part of any longer mention: "HPRT-deficient" and "VLCAD deficiency" are diseases. A disease's short form
        is part of a longer disease ("cerebral ALD"). A drug's never is: "DOX cardiomyopathy" is the drug and
        the disease, and BC5CDR annotates both. On NCBI-disease dev: 13 more diseases right (F1 +0.011).
        """
        holders = [e for e in ents if e.start_char <= short.start_char and short.end_char <= e.end_char
                   and e.end_char - e.start_char > short.end_char - short.start_char]
        if not holders:
            return False
        if found is None or found[0] not in ("CHEM", "DISO"):
            return True
        if found[0] == "DISO":
            return any(e.label_ == "DISO" for e in holders)
        categories = self._branches(found[1])
        return bool(categories) and categories <= GENE_PRODUCT_BRANCHES

    def _enzyme(self, link: Link) -> bool:
        """Whether a link's concept is an enzyme and nothing else (MeSH D08): never a chemical mention.

        BC5CDR annotates no enzyme; the vocabulary files them under chemicals. Their short forms ("NOS",
        "ChAT", "CK", "ACE") were 18 false chemicals on BC5CDR dev and 25 on the training documents, none right.
        """
        categories = self._branches(link)
        return bool(categories) and categories <= ENZYME_BRANCHES

    def _protein(self, link: Link, long: str) -> bool:
        """Whether the long form names a protein ("acetylcholine receptor (AChR)", "tyrosine hydroxylase (TH)")
        and its concept is filed under proteins or enzymes only (MeSH D08, D12).

        Both are asked: D12 also holds the amino acids ("N-methyl-D-aspartate (NMDA)"), which BC5CDR marks.
        BC5CDR marks no receptor, transporter or enzyme; their short forms were 12 false chemicals on its dev
        split and 11 on the training documents, none right.
        """
        categories = self._branches(link)
        return bool(categories) and categories <= GENE_PRODUCT_BRANCHES and _names_protein(long)

    def _branches(self, link: Link) -> frozenset[str]:
        """The MeSH top-level branches of a link's concept (none without a lexicon)."""
        return frozenset(self.lexicon.concepts[link.concept_id][2]) if self.lexicon is not None else frozenset()

    def _link_text(self, text: str) -> tuple[str, Link] | None:
        """A long form no mention covers, linked on its own: exact term, else a confident TF-IDF candidate
        whose alias has every word in the long form, as for mentions (:func:`linking._words_covered`):
        "mean arterial blood pressure (MBP)" is not Hypotension through its alias "reduction in mean arterial
        blood pressure" (BC5CDR dev +0.0013, training documents +0.0016 and +0.0008)."""
        if self.lexicon is None:
            return None
        found = self.lexicon.lookup(text)
        link: Link | None
        if found:
            link = choose_link(found[0], self.lexicon, found[1], annotated=self.lexicon.annotated_choice(text),
                               text=text)
        elif self.lexicon.candidates is not None and text.split()[-1].lower() not in GENE_PRODUCT_HEADS:
            cands = self.lexicon.candidates([text])[0]
            links = [approximate_link(cands, self.lexicon, group, text=text) for group in ("DISO", "CHEM")]
            link = max((lk for lk in links if lk is not None), key=lambda lk: lk.score, default=None)
        else:
            link = None
        return None if link is None else (self.lexicon.concepts[link.concept_id][1], link)


def _short_form_span(short: Span, found: tuple[str, Link]) -> Span:
    label, link = found
    span = Span(short.doc, short.start, short.end, label=label)
    span._.link = Link(concept_id=link.concept_id, score=round(link.score * 0.95, 3), method="abbreviation",
                       alternatives=link.alternatives)
    span._.char_span = (short.start_char, short.end_char)
    return span


def _long_form_mention(ents: list[Span], start: int, end: int, text: str, short: str) -> Span | None:
    """The mention that is the long form: the whole of it, else the longest one that ends where it ends.

    Not a chemical that is the short tail of a chemical name: "phosphate" is not what "tri-ortho-tolyl phosphate
    (TOTP)" means, nor "sodium" "unfractionated heparin sodium (UFH)". A long form of more words is usually the
    detector reaching too far back ("conversion in patients undergoing cyclosporine (CsA)"): its tail is the name.
    A tail that is no disease must begin with the short form's first letter: "salt" is not what "cholesteryl
    hemisuccinate, tris salt (CS)" means (13 false chemicals on BC5CDR dev), where a disease tail is
    ("levodopa-induced dyskinesia (LID)" is the dyskinesia, as BC5CDR links it).
    """
    exact = [e for e in ents if e.start_char == start and e.end_char == end]
    if exact:
        return exact[0]
    inside = [e for e in ents if start <= e.start_char and e.end_char == end]
    best = max(inside, key=lambda e: e.end_char - e.start_char) if inside else None
    if best is not None and best.label_ != "DISO" and not _starts_alike(short, best.text):
        return None
    if best is not None and best.label_ == "CHEM" and 2 * (best.end_char - best.start_char) < end - start \
            and len(text[start:end].split()) <= CHEMICAL_NAME_WORDS:
        return None
    return best


def _starts_alike(short: str, name: str) -> bool:
    """Whether ``name``'s first letter (past any locant) is the short form's first."""
    first = next((c for c in name if c.isalpha()), "")
    return short[:1].lower() == first.lower()


def _names_protein(text: str) -> bool:
    """Whether a name has a word that only proteins have: "receptor", "transporter", "kinase", any "-ase"
    (not "peptide" or "gene": BC5CDR marks "calcitonin gene-related peptide (CGRP)" in training)."""
    words = (word.lower().rstrip("s") for word in re.findall(r"[A-Za-z]+", text))
    return any(w in PROTEIN_WORDS or (w.endswith("ase") and w not in NOT_ENZYMES) for w in words)


def _governed(before: str) -> bool:
    """Whether the long form's words before its mention end in a preposition ("deleted in", "inhibitor of")."""
    words = before.split()
    return bool(words) and words[-1].lower() in PREPOSITIONS
