"""Query time: U-Retrieve, the local LLM, answers with provenance, and the public Python API."""
