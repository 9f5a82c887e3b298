"""The linking scorer on the real-format NCBI-disease fixture."""

from __future__ import annotations

import pytest

from medkg.errors import InputError
from medkg.evaluation.linking import score
from medkg.kg.records import Link, Mention
from medkg.pipelines.reading import GoldMention, read_gold


def as_prediction(g: GoldMention, concept_id: str | None = None, group: str = "DISO") -> tuple[str, Mention]:
    cid = concept_id or sorted(g.ids)[0]
    return g.doc_id, Mention(start=g.start, end=g.end, text=g.text, link=Link(cid, 1.0, "test"), semantic_group=group)


def test_gold_reader_makes_curies_and_types(fixtures):
    docs, gold = read_gold(fixtures / "ncbi_disease_2docs.pubtator")
    assert len(docs) == 2
    assert {g.type for g in gold} == {"Disease"}  # the four NCBI classes are one type
    first = gold[0]
    assert first.text == "enzyme deficiency" and first.ids == frozenset({"MESH:D008661"})
    assert all(docs[0].text[g.start:g.end] == g.text for g in gold if g.doc_id == docs[0].id)


def test_perfect_predictions_score_one_and_errors_count(fixtures):
    _, gold = read_gold(fixtures / "ncbi_disease_2docs.pubtator")
    gold = [g for g in gold if g.ids]
    perfect = score(gold, [as_prediction(g) for g in gold])
    assert perfect["concept"]["all"].scores()["f1"] == 1.0
    assert perfect["document"]["Disease"].fn == 0

    # one mention dropped, one linked to the wrong concept, one chemical (not annotated here: ignored)
    preds = [as_prediction(g) for g in gold[1:]]
    preds[0] = as_prediction(gold[1], "MESH:D000001")
    preds.append(as_prediction(gold[0], "MESH:D002241", group="CHEM"))
    levels = score(gold, preds)
    mention, concept = levels["mention"]["all"], levels["concept"]["all"]
    assert (mention.tp, mention.fp, mention.fn) == (len(gold) - 1, 0, 1)
    assert (concept.tp, concept.fp, concept.fn) == (len(gold) - 2, 1, 2)
    assert concept.scores()["f1"] < mention.scores()["f1"] < 1.0


def test_gold_span_that_does_not_match_text_is_named(tmp_path, fixtures):
    bad = (fixtures / "ncbi_disease_2docs.pubtator").read_text().replace("\t154\t171\t", "\t150\t167\t", 1)
    path = tmp_path / "bad.pubtator"
    path.write_text(bad)
    with pytest.raises(InputError, match="bad.pubtator:3: mention 'enzyme deficiency' is not at 150-167"):
        read_gold(path)


def test_links_to_other_vocabularies_count_through_their_mappings(fixtures):
    _, gold = read_gold(fixtures / "ncbi_disease_2docs.pubtator")
    g = next(g for g in gold if g.ids)
    target = sorted(g.ids)[0]
    pred = [as_prediction(g, "MONDO:0000001")]
    assert score([g], pred)["concept"]["all"].tp == 0
    levels = score([g], pred, equivalents=lambda cid: (target,) if cid == "MONDO:0000001" else ())
    assert (levels["concept"]["all"].tp, levels["document"]["all"].tp, levels["document"]["all"].fn) == (1, 1, 0)


def test_gold_ids_no_vocabulary_has_are_counted_apart(fixtures):
    from medkg.evaluation.linking import evaluate

    docs, gold = read_gold(fixtures / "ncbi_disease_2docs.pubtator")
    gold = [g for g in gold if g.ids]
    retired = sorted(gold[0].ids)[0]  # as if the vocabulary had renumbered this concept since the annotation
    found = {g.doc_id: [] for g in gold}
    for g in gold[:2]:
        found[g.doc_id].append(as_prediction(g, "MESH:D999999")[1])

    report = evaluate(docs, gold, lambda texts: [found.get(d.id, []) for d in docs], known=lambda cid: cid != retired)
    lacking = [g for g in gold if retired in g.ids]
    assert report.to_dict()["outside_vocabulary"] == {"gold_mentions": len(lacking),
                                                      "span_found": sum(g in gold[:2] for g in lacking)}
    assert "outside_vocabulary" not in evaluate(docs, gold, lambda texts: [[] for _ in texts]).to_dict()
