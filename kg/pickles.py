"""Loading medkg's own pickles (ledger payloads, the lexicon) across module moves.

Pickles name the module of every class they hold. medkg 0.1's records lived in
``medkg.pipelines.records``, its lexicon in ``medkg.pipelines.lexicon``; the
layout of stages moved them (:data:`MOVED`). A graph built before the move
must keep loading without a rebuild, so :func:`loads` and :func:`load` map the
old names to the new ones. Pickles are written only by medkg itself, into the
user's own graph directory; nothing here loads pickles from elsewhere.
"""

from __future__ import annotations

import io
import pickle
from typing import IO, Any

# old module -> where its classes and functions live now
MOVED = {
    "medkg.pipelines.records": "medkg.kg.records",
    "medkg.pipelines.terms": "medkg.ontologies.terms",
    "medkg.pipelines.lexicon": "medkg.pipelines.linking.lexicon",
    "medkg.pipelines.candidates": "medkg.pipelines.linking.candidates",
    "medkg.pipelines.linking": "medkg.pipelines.linking.choose",
    "medkg.pipelines.match_priors": "medkg.pipelines.linking.priors",
    "medkg.kg.summaries": "medkg.kg.view.summaries",
}


class _Renaming(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        return super().find_class(MOVED.get(module, module), name)


def loads(data: bytes) -> Any:
    return _Renaming(io.BytesIO(data)).load()


def load(file: IO[bytes]) -> Any:
    return _Renaming(file).load()
