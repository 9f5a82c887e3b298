"""Every statement in kg/cypher.py has one name: a second assignment would silently replace the first, and every
caller of the first would run the other statement."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import medkg.kg.cypher as cypher


def test_no_statement_name_is_assigned_twice() -> None:
    tree = ast.parse(Path(cypher.__file__).read_text(encoding="utf-8"))
    names = Counter(t.id for node in tree.body if isinstance(node, ast.Assign)
                    for t in node.targets if isinstance(t, ast.Name))
    assert names, "kg/cypher.py defines its statements as module-level constants"
    assert [n for n, k in names.items() if k > 1] == []
