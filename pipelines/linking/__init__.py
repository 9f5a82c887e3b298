"""pipelines/linking."""
