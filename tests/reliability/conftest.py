"""Fixtures of the reliability suite (the harness is :mod:`harness`): copies of the sample graph to damage."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from harness import Snapshot, snapshot


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reliability" in str(item.path):
            item.add_marker(pytest.mark.reliability)


@pytest.fixture(scope="session")
def sample_snapshot(sample_graph: Path) -> Snapshot:
    return snapshot(sample_graph)


@pytest.fixture
def graph_copy(sample_graph: Path, tmp_path: Path) -> Path:
    """A private copy of the sample graph that a case may damage."""
    dst = tmp_path / "graph"
    shutil.copytree(sample_graph, dst, symlinks=True)
    return dst
