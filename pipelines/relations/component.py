"""spaCy component ``medkg_relations``: typed relations between the linked chemicals and diseases of a document.

It runs last, after linking and ConText, and reads the document's entity spans (``doc.ents`` with their
``_.link``): every chemical x disease concept pair of the document is a candidate, within one sentence or
across sentences (:mod:`medkg.pipelines.relations.candidates`), and each type's classifier of the relation
model decides it (:mod:`medkg.pipelines.relations.model`). The result is ``doc._.relations``: a list of
:class:`~medkg.pipelines.relations.records.ConceptRelation` (concept ids, type, score, method, evidence span,
the starts of the two mentions that state it best, negation and speculation flags), which the extractor
turns into ``RELATED`` edges between entities.

Sentences are split the way the model was trained (a regular-expression splitter that never cuts a mention,
the title as sentence 0), not by the pipeline's sentencizer: the features of a pair depend on its sentence.
The title's end comes from ``doc._.title_end``, which the extractor sets from the document's ``TITLE``
section (0: no title). Documents are scored in batches (``pipe``): the boosted trees cost per call.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spacy.tokens import Doc

from medkg.pipelines.relations.model import RelationModel
from medkg.pipelines.relations.records import CHEMICAL, DISEASE, AnnotatedText, EntityMention
from medkg.pipelines.text.tokenizer import doc_text

if not Doc.has_extension("relations"):
    Doc.set_extension("relations", default=None)
if not Doc.has_extension("title_end"):
    Doc.set_extension("title_end", default=0)

# the entity labels of the pipeline (semantic groups) and the roles of the relation model
ROLES = {"CHEM": CHEMICAL, "DISO": DISEASE}
BATCH = 64


def mesh_id(curie: str) -> str:
    """A concept id as the relation model reads it: MeSH ids bare, other CURIEs as they are."""
    return curie[5:] if curie.startswith("MESH:") else curie


class RelationTagger:
    """Sets ``doc._.relations`` (see the module docstring)."""

    def __init__(self, model: RelationModel) -> None:
        self.model = model

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, docs: Iterable[Doc], batch_size: int = BATCH) -> Iterator[Doc]:
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._tag(batch)
                batch = []
        if batch:
            yield from self._tag(batch)

    def _tag(self, docs: list[Doc]) -> list[Doc]:
        texts = [annotated(doc) for doc in docs]
        for doc, found in zip(docs, self.model.extract(texts)):
            doc._.relations = found
        return docs


def annotated(doc: Doc) -> AnnotatedText:
    """The document's text and its linked chemical and disease mentions, as the relation model reads them."""
    mentions = []
    for ent in doc.ents:
        role = ROLES.get(ent.label_)
        link = ent._.link
        if role is None or link is None:
            continue
        start, end = ent._.char_span or (ent.start_char, ent.end_char)
        mentions.append(EntityMention(start, end, ent.text, role, (mesh_id(link.concept_id),)))
    mentions.sort(key=lambda m: (m.start, m.end))
    return AnnotatedText(doc_id="", text=doc_text(doc), title_end=int(doc._.title_end or 0), mentions=mentions)
