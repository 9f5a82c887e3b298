"""pipelines/relations."""
