"""pipelines/embedding."""
