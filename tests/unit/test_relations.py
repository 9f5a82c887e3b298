"""The relation stage on texts written for the tests: candidates, negation, training, evidence, edges, labels."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from medkg.errors import InputError
from medkg.evaluation.relations import score
from medkg.kg.records import Chunk, ChunkGraph, Entity, Link, Mention
from medkg.pipelines.reading import GoldRelation, read_relations
from medkg.pipelines.relations.candidates import generate_candidates, prepare
from medkg.pipelines.relations.classifier import TrainConfig, fit
from medkg.pipelines.relations.edges import typed_relations
from medkg.pipelines.relations.extract import extract_batch, extract_relations
from medkg.pipelines.relations.mesh import MeshResource
from medkg.pipelines.relations.model import RelationModel, relation_fingerprint
from medkg.pipelines.relations.records import CHEMICAL, DISEASE, AnnotatedText, ConceptRelation, EntityMention
from medkg.pipelines.relations.training import read_pair_labels

DRUGS = [("cocaine", "D003042"), ("lithium", "D008094"), ("haloperidol", "D006220"), ("cisplatin", "D002945"),
         ("heparin", "D006493"), ("aspirin", "D001241")]
DISEASES = [("seizures", "D012640"), ("hepatitis", "D006505"), ("nephrotoxicity", "D007674"),
            ("hypotension", "D007022"), ("bleeding", "D006470"), ("tremor", "D014202")]
INDUCING = ["{c} induced {d} in most of the rats.", "{d} developed after {c} was given.",
            "Treatment with {c} caused severe {d}."]
OTHER = ["{c} was compared with placebo and {d} was recorded as a baseline.",
         "Patients with {d} were excluded before {c} dosing."]
MESH = MeshResource()


def text_of(template: str, drug: tuple[str, str], disease: tuple[str, str], doc_id: str,
            label: bool) -> AnnotatedText:
    """A two-sentence text (a title and the template) with its two mentions and, if ``label``, the pair."""
    title = f"A study of {drug[0]}."
    body = template.format(c=drug[0], d=disease[0])
    text = f"{title} {body}"
    mentions = []
    for name, ident, role in ((drug[0], drug[1], CHEMICAL), (disease[0], disease[1], DISEASE)):
        for k in (i for i in range(len(text)) if text.lower().startswith(name, i)):
            mentions.append(EntityMention(k, k + len(name), text[k : k + len(name)], role, (ident,)))
    mentions.sort(key=lambda m: (m.start, m.end))
    return AnnotatedText(doc_id, text, len(title), mentions, {(drug[1], disease[1])} if label else set())


def corpus(n: int, seed: int = 0) -> list[AnnotatedText]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        positive = i % 2 == 0
        template = rng.choice(INDUCING if positive else OTHER)
        out.append(text_of(template, rng.choice(DRUGS), rng.choice(DISEASES), f"T:{i}", positive))
    return out


@pytest.fixture(scope="module")
def classifier():
    return fit(corpus(120), MESH, TrainConfig(use_trees=False, threshold=0.5, inner_folds=3), "INDUCES", "test")


def test_candidates_pair_every_chemical_with_every_disease_in_and_across_sentences() -> None:
    text = "Cocaine and lithium. Seizures followed cocaine. Later, tremor."
    m = [EntityMention(0, 7, "Cocaine", CHEMICAL, ("D003042",)), EntityMention(12, 19, "lithium", CHEMICAL,
                                                                                 ("D008094",)),
         EntityMention(21, 29, "Seizures", DISEASE, ("D012640",)), EntityMention(39, 46, "cocaine", CHEMICAL,
                                                                                  ("D003042",)),
         EntityMention(55, 61, "tremor", DISEASE, ("D014202", "D012640"))]  # a composite mention: two ids
    ctx = prepare(AnnotatedText("d", text, 0, m))
    assert len(ctx.sentences) == 3
    pairs = {(p.chemical, p.disease): p for p in generate_candidates(ctx)}
    assert set(pairs) == {(c, d) for c in ("D003042", "D008094") for d in ("D012640", "D014202")}
    same = pairs[("D003042", "D012640")].mention_pairs
    assert any(mp.same_sentence for mp in same)  # "Seizures followed cocaine."
    assert all(not mp.same_sentence for mp in pairs[("D008094", "D014202")].mention_pairs)  # only across sentences


def test_a_trained_classifier_separates_inducing_statements(classifier) -> None:
    test = corpus(40, seed=1)
    found = extract_batch(test, classifier)
    predicted = {(t.doc_id, r.chemical_id, r.disease_id) for t, rs in zip(test, found) for r in rs}
    gold = {(t.doc_id, c, d) for t in test for c, d in t.relations}
    assert len(predicted & gold) >= 0.8 * len(gold) and len(predicted - gold) <= 0.2 * len(gold)


def test_a_relation_carries_its_evidence_sentence_and_mentions(classifier) -> None:
    t = text_of("Treatment with {c} caused severe {d}.", DRUGS[0], DISEASES[0], "T:x", True)
    (r,) = extract_relations(t, classifier)
    assert (r.type, r.method, r.chemical_id, r.disease_id) == ("INDUCES", "test", "D003042", "D012640")
    assert t.text[r.start : r.end] == "Treatment with cocaine caused severe seizures."
    assert t.text[r.chemical_at :].startswith("cocaine") and t.text[r.disease_at :].startswith("seizures")
    assert not r.negated and not r.speculative and 0.5 <= r.score <= 1.0


def test_a_negated_statement_is_not_asserted_and_a_hedged_one_is_flagged(classifier) -> None:
    neg = text_of("Treatment with {c} did not cause {d}.", DRUGS[0], DISEASES[0], "T:n", False)
    assert extract_relations(neg, classifier, threshold=0.0) == []
    (flagged,) = extract_relations(neg, classifier, threshold=0.0, keep_negated=True)
    assert flagged.negated
    hedged = text_of("Treatment with {c} may cause {d}.", DRUGS[0], DISEASES[0], "T:s", False)
    (r,) = extract_relations(hedged, classifier, threshold=0.0)
    assert r.speculative and not r.negated


def test_a_model_round_trips_through_its_folder(classifier, tmp_path: Path) -> None:
    RelationModel({"INDUCES": classifier}, MESH).save(tmp_path / "m", {"trained_on": ["synthetic"]})
    loaded = RelationModel.load(tmp_path / "m")
    assert loaded.types == ["INDUCES"] and loaded.info["trained_on"] == ["synthetic"]
    texts = corpus(10, seed=2)
    assert loaded.extract(texts) == [extract_relations(t, classifier) for t in texts]
    before = relation_fingerprint(tmp_path / "m")
    (tmp_path / "m" / "induces" / "config.json").write_text("{}", encoding="utf-8")
    assert relation_fingerprint(tmp_path / "m") != before
    with pytest.raises(Exception, match="cannot be loaded"):
        RelationModel.load(tmp_path / "m")


def _entity(eid: str, chunk: str, concept: str, group: str, *starts: int) -> Entity:
    link = Link(concept, 1.0, "test")
    return Entity(eid, chunk, 2, concept, group, link, [Mention(s, s + 3, "xyz", link, group) for s in starts])


def test_typed_relations_join_the_entities_that_state_them_across_chunks() -> None:
    g0 = ChunkGraph(Chunk("d#c0", "d", 2, 0, 0, 50, "x" * 50), [_entity("d#c0/e0", "d#c0", "MESH:D1", "CHEM", 5)], [])
    g1 = ChunkGraph(Chunk("d#c1", "d", 2, 1, 51, 100, "y" * 49), [_entity("d#c1/e0", "d#c1", "MESH:D2", "DISO", 60),
                                                                   _entity("d#c1/e1", "d#c1", "MESH:D1", "CHEM", 70)],
                    [])
    found = [ConceptRelation("", "D1", "D2", "INDUCES", 0.9, "m", 51, 99, 70, 60, speculative=True),
             ConceptRelation("", "D1", "D2", "TREATS", 0.4, "m", 0, 99, 5, 60),
             ConceptRelation("", "D1", "D2", "INDUCES", 0.8, "m", 51, 99, 70, 60),  # the same pair again
             ConceptRelation("", "D1", "D2", "TREATS", 0.9, "m", 0, 99, 5, 60, negated=True),
             ConceptRelation("", "D1", "D2", "INDUCES", 0.9, "m", 0, 99, 33, 60)]  # a mention no entity holds
    typed_relations([g0, g1], found)
    assert [(r.source, r.target, r.type, r.chunk_id, r.speculative) for r in g1.relations] == [
        ("d#c1/e1", "d#c1/e0", "INDUCES", "d#c1", True)]
    assert [(r.source, r.target, r.type, r.chunk_id) for r in g0.relations] == [
        ("d#c0/e0", "d#c1/e0", "TREATS", "d#c0")]


def test_pair_labels_negated_treatments_are_negatives(tmp_path: Path) -> None:
    path = tmp_path / "labels.tsv"
    path.write_text("pmid\tchemical_id\tdisease_id\tlabel\tnegated\tsplit\n"
                    "1\tD1\tD2\tTREATS\t0\ttrain\n1\tD1\tD3\tTREATS\t1\ttrain\n2\tD4\tD5\tNONE\t0\theldout\n",
                    encoding="utf-8")
    labels = read_pair_labels(path, "TREATS")
    assert labels.positives == {"PMID:1": {("D1", "D2")}, "PMID:2": set()}
    assert labels.split == {"PMID:1": "train", "PMID:2": "heldout"}
    path.write_text("pmid\tchemical_id\tdisease_id\tlabel\n1\tD1\tD2\tCAUSES\n", encoding="utf-8")
    with pytest.raises(InputError, match="labels.tsv:2: label 'CAUSES'"):
        read_pair_labels(path, "TREATS")


def test_pubtator_relation_lines_become_graph_types(tmp_path: Path) -> None:
    path = tmp_path / "x.pubtator"
    path.write_text("1|t|Title one\n1|a|Abstract one.\n1\tCID\tD003042\tD012640\n1\tOTHER\tD1\tD2\n\n"
                    "2|t|Title two\n2|a|Abstract two.\n2\tCID\tD008094\tD014202\n", encoding="utf-8")
    assert read_relations(path) == [GoldRelation("PMID:1", "INDUCES", "MESH:D003042", "MESH:D012640"),
                                    GoldRelation("PMID:2", "INDUCES", "MESH:D008094", "MESH:D014202")]
    path.write_text("1|t|T\n1|a|A.\n9\tCID\tD1\tD2\n", encoding="utf-8")
    with pytest.raises(InputError, match="PMID 9, which has no title"):
        read_relations(path)


def test_document_level_scores_count_each_pair_once_per_type() -> None:
    gold = [GoldRelation("d1", "INDUCES", "a", "b"), GoldRelation("d1", "INDUCES", "a", "c"),
            GoldRelation("d2", "INDUCES", "a", "b")]
    predicted = [("d1", "INDUCES", "a", "b"), ("d1", "INDUCES", "a", "b"), ("d2", "INDUCES", "x", "y"),
                 ("d1", "TREATS", "a", "c")]
    counts = score(gold, predicted, ["INDUCES", "TREATS"])
    assert (counts["INDUCES"].tp, counts["INDUCES"].fp, counts["INDUCES"].fn) == (1, 1, 2)
    assert counts["TREATS"].scores()["precision"] == 0.0 and counts["TREATS"].fp == 1
