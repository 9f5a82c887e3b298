"""pipelines/abbreviations."""
