"""pipelines/text."""
