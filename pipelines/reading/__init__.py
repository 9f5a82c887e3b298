"""Reading inputs into :class:`~medkg.kg.records.Document` records.

One module per format (JSONL in :mod:`.documents`, PubTator with its gold
mentions, PubMed/MEDLINE XML, PubMedQA JSON, clinical reports as text or CSV);
:func:`read_documents` picks the reader from a file's name and walks
directories. Every reader raises :class:`~medkg.errors.InputError` naming the
file (and line) when an input is missing, not UTF-8, malformed or empty.
PubMed update files also withdraw documents (``DeleteCitation``): those come
as :class:`Deletion` records where a caller asks for them.
"""

from medkg.pipelines.reading.documents import SUPPORTED, read_documents, read_jsonl
from medkg.pipelines.reading.pubmed_xml import pubmed_xml_items, read_pubmed_xml
from medkg.pipelines.reading.pubmedqa import read_pubmedqa
from medkg.pipelines.reading.pubtator import (
                                              GOLD_TYPES,
                                              GROUP_TYPES,
                                              RELATION_TYPES,
                                              GoldMention,
                                              GoldRelation,
                                              read_gold,
                                              read_pubtator,
                                              read_relations,
)
from medkg.pipelines.reading.rejects import Deletion, Reject
from medkg.pipelines.reading.reports import read_csv_reports, read_report

__all__ = ["SUPPORTED", "read_documents", "read_jsonl", "read_pubmed_xml", "read_pubmedqa", "read_pubtator",
           "read_gold", "GoldMention", "GOLD_TYPES", "GROUP_TYPES",
           "read_relations", "GoldRelation", "RELATION_TYPES", "read_csv_reports", "read_report",
           "pubmed_xml_items", "Deletion", "Reject"]
