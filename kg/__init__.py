"""The three-tier graph: schema, stores, search indexes, tag summaries and the graph directory."""
