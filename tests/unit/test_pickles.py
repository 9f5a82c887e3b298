"""Graphs built before the layout by stage keep loading: pickles that name the old modules are mapped."""

from __future__ import annotations

import pickle
import pickletools

import pytest

from medkg.kg import pickles
from medkg.kg.records import Chunk, ChunkGraph, Document, Entity, Link, Mention


def _as_written_by_medkg_0_1(obj: object) -> bytes:
    """``obj`` pickled as the old layout wrote it: the same records under ``medkg.pipelines.records``.

    Protocol 2 names each global as a text line (``c<module>\\n<name>\\n``), so the module can be renamed in
    the bytes without breaking the framing.
    """
    data = pickle.dumps(obj, protocol=2)
    assert b"cmedkg.kg.records\n" in data
    return data.replace(b"cmedkg.kg.records\n", b"cmedkg.pipelines.records\n")


def test_records_pickled_under_the_old_module_load() -> None:
    doc = Document(id="PMID:1", text="Aspirin causes ulcers.", pmid="1")
    link = Link("MESH:D001241", 1.0, "dictionary:preferred")
    ent = Entity(id="PMID:1#c0/e0", chunk_id="PMID:1#c0", tier=2, name="Aspirin", semantic_group="CHEM", link=link,
                 mentions=[Mention(0, 7, "Aspirin", link, "CHEM")])
    graph = ChunkGraph(Chunk("PMID:1#c0", "PMID:1", 2, 0, 0, 22, doc.text), [ent], [])
    old = _as_written_by_medkg_0_1((doc, [graph]))
    assert "medkg.pipelines.records" in " ".join(str(a) for _, a, _ in pickletools.genops(old))
    with pytest.raises(ModuleNotFoundError):
        pickle.loads(old)  # plain pickle no longer finds the old module
    assert pickles.loads(old) == (doc, [graph])


def test_unknown_modules_still_fail() -> None:
    data = pickle.dumps(Document(id="x", text="y"), protocol=2).replace(b"cmedkg.kg.records\n",
                                                                        b"cmedkg.nowhere\n")
    with pytest.raises(ModuleNotFoundError):
        pickles.loads(data)
