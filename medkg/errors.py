"""The one exception hierarchy of medkg.

Every error the library raises on purpose is a :class:`MedKGError`. Subclasses
say which input was wrong; each is raised ``from`` the library exception that
caused it, so the original traceback stays available to a developer while the
CLI prints only the message.
"""

from __future__ import annotations


class MedKGError(Exception):
    """Root of every error medkg raises on purpose."""


class InputError(MedKGError):
    """An input file or document cannot be read: missing, wrong encoding, malformed or empty."""


class VocabularyError(MedKGError):
    """A vocabulary file is missing or malformed."""


class GraphNotFoundError(MedKGError):
    """The graph directory does not exist or holds no medkg graph."""


class GraphCorruptError(MedKGError):
    """The graph directory exists but its files are damaged or from another format version."""


class StoreError(MedKGError):
    """The graph store refused an operation (a query error, a write on a read-only store)."""


class ModelNotFoundError(MedKGError):
    """A model file (LLM weights, embedder, spaCy model) is not installed where expected."""


class ModelError(MedKGError):
    """A model was found but failed while loading or running."""


class OutputCutOffError(ModelError):
    """A constrained generation reached its token limit before its JSON was complete."""


class QueryError(MedKGError):
    """A question or query is empty, too long or otherwise unusable."""


class NotFoundError(MedKGError):
    """A document, concept or other item asked for by id is not in the graph."""
