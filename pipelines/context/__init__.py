"""pipelines/context."""
