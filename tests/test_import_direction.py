"""Apps import one way: anonmsg ← campaigns ← delivery ← metrics (README, Layout).

A later app may use an earlier one; an earlier one hears from a later one only through signals
(and the OpenAPI document, to which each app contributes its fragment when it is ready).
"""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["anonmsg", "campaigns", "delivery", "metrics"]


def imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name.split(".")[0] for name in names} & set(ORDER)


def back_references() -> list[str]:
    found = []
    for rank, app in enumerate(ORDER):
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts:
                continue
            later = {name for name in imported_apps(path) if ORDER.index(name) > rank}
            found += [f"{relative} imports {name}" for name in sorted(later)]
    return found


def test_apps_import_only_the_apps_before_them():
    assert back_references() == []


def test_the_check_sees_a_back_reference(tmp_path, monkeypatch):
    # The check itself must be able to fail: a campaigns module importing metrics.
    for app in ORDER:
        (tmp_path / app).mkdir()
    (tmp_path / "campaigns" / "views.py").write_text("from metrics.summary import numbers\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert back_references() == ["campaigns/views.py imports metrics"]
