"""Tier 3: controlled vocabularies, the ``Concept`` record and its hierarchy."""

from medkg.ontologies.concept import Concept
from medkg.ontologies.vocabulary import Vocabulary, load_vocabulary

__all__ = ["Concept", "Vocabulary", "load_vocabulary"]
