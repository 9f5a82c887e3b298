"""pipelines/ner."""
