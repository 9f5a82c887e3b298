"""Evaluation on real data: question answering (and, later, linking)."""
