"""Run mypy over medkg as it is installed: the package folders mapped as pyproject.toml maps them.

The repository keeps ``kg/``, ``pipelines/``, ``queries/`` and ``ontologies/`` at
the top level and installs them as ``medkg.kg`` and so on; mypy follows
imports by file location, so it is pointed at a tree of symbolic links in
``.typecheck/`` (git-ignored) that has the installed shape. Reported paths
start with ``medkg/``: ``medkg/kg/ledger.py`` is ``kg/ledger.py``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[1]
SUBPACKAGES = ("kg", "pipelines", "queries", "ontologies")


def link_tree() -> Path:
    farm = ROOT / ".typecheck"
    shutil.rmtree(farm, ignore_errors=True)
    pkg = farm / "medkg"
    pkg.mkdir(parents=True)
    for entry in (ROOT / "medkg").iterdir():
        if entry.name != "__pycache__":
            (pkg / entry.name).symlink_to(entry)
    for name in SUBPACKAGES:
        (pkg / name).symlink_to(ROOT / name)
    return farm


def main() -> int:
    farm = link_tree()
    os.chdir(farm)  # module paths are then medkg/..., and the cache stays in the git-ignored tree
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir",
                                str(farm / ".mypy_cache"), "-p", "medkg", *sys.argv[1:]])
    sys.stdout.write(out)
    sys.stderr.write(err)
    return status


if __name__ == "__main__":
    sys.exit(main())
