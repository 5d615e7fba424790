"""The package's shape: no module writes another object's private attributes, and no two
modules import each other (each imports alone, in a fresh interpreter)."""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Set

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "smacish"
# A cache that smacish keeps on ConfigSpace's Configuration objects (never read by ConfigSpace):
# named for smacish, so that no ConfigSpace attribute can clash with it.
ALLOWED = {("_io.py", "_smacish_key")}


def modules() -> Dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def foreign_private_writes(path: Path) -> List[str]:
    """``x._name = ...`` (or ``+=``) where ``x`` is not ``self`` or ``cls``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
        for target in targets:
            for t in ast.walk(target):
                if (isinstance(t, ast.Attribute) and t.attr.startswith("_") and not t.attr.startswith("__")
                        and not (isinstance(t.value, ast.Name) and t.value.id in ("self", "cls"))
                        and (path.name, t.attr) not in ALLOWED):
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{t.lineno}: {ast.unparse(t)} = ...")
    return found


def top_level_imports(name: str, path: Path) -> Set[str]:
    """The smacish modules that ``name`` imports when it is imported: at its top level, or
    under a top-level ``if`` other than ``if TYPE_CHECKING:`` (annotations only; imports inside
    functions, made when they run, are not counted either)."""
    known = modules()
    out: Set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    body = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                body.extend(node.body + node.orelse)
        else:
            body.append(node)
    for node in body:
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        out.update(n for n in names if n in known and n != name)
    return out


def test_no_module_writes_another_objects_private_attributes() -> None:
    found = [line for path in modules().values() for line in foreign_private_writes(path)]
    assert found == []


def test_the_check_finds_a_foreign_private_write(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f(opt):\n    opt._pending = {}\n    self_like = opt\n    self_like._n += 1\n")
    assert len(foreign_private_writes_at(bad)) == 2


def foreign_private_writes_at(path: Path) -> List[str]:
    tree = ast.parse(path.read_text())
    return [ast.unparse(t) for node in ast.walk(tree) if isinstance(node, (ast.Assign, ast.AugAssign))
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            for t in ast.walk(target) if isinstance(t, ast.Attribute) and t.attr.startswith("_")
            and not (isinstance(t.value, ast.Name) and t.value.id in ("self", "cls"))]


def test_no_import_cycle_inside_the_package() -> None:
    graph = {name: top_level_imports(name, path) for name, path in modules().items()}
    cycles = []
    state: Dict[str, int] = {}

    def visit(node: str, stack: List[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if nxt.startswith(node + ".") or node.startswith(nxt + "."):
                continue  # a package and its own submodules
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name, [name])
    assert cycles == []


@pytest.mark.slow
def test_each_module_imports_alone() -> None:
    def imports(name: str) -> str:
        done = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True)
        return "" if done.returncode == 0 else f"{name}: {done.stderr.strip().splitlines()[-1]}"

    with ThreadPoolExecutor(max_workers=2) as pool:
        failures = [f for f in pool.map(imports, [m for m in modules() if not m.endswith("__main__")]) if f]
    assert failures == []
