"""Documents to graph records: readers, chunking, the spaCy pipeline, linking, relations, embeddings, the build."""
