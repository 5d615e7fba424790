"""Catch a script that would start Dask worker processes without a ``__main__`` guard.

Dask starts the embedded cluster's workers with ``spawn``: each worker imports the user's
script again, and module-level code that calls ``optimize`` would start a cluster from inside
a worker that is still starting. Without this check, that ends in ~150 lines of nanny
tracebacks; with it, in one sentence before any process starts.
"""

from __future__ import annotations

import ast
import os
import sys
from functools import lru_cache
from typing import Optional, Tuple


def check_main_guard(what: str = "optimize(n_workers > 1)") -> None:
    """Raise ``RuntimeError`` if this call comes from the main script's module-level code
    outside an ``if __name__ == "__main__":`` block (and worker processes are spawned)."""
    site = unguarded_call_site()
    if site is not None:
        path, line = site
        raise RuntimeError(
            f"{what} starts Dask worker processes, and each of them imports {os.path.basename(path)} again, "
            f"which would run line {line} again in every worker: put the code that runs the optimisation "
            "under `if __name__ == \"__main__\":`"
        )


def unguarded_call_site() -> Optional[Tuple[str, int]]:
    """``(script, line)`` of the module-level statement of ``__main__`` that led to this call,
    if it is not inside a ``__main__`` guard; None otherwise (guarded, a notebook, ``-c``)."""
    if _start_method() == "fork":
        return None
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path or getattr(main, "__name__", None) != "__main__":
        return None
    real = os.path.realpath(path)
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "<module>" and os.path.realpath(code.co_filename) == real:
            line = frame.f_lineno
            return None if any(a <= line <= b for a, b in _guarded_lines(real)) else (path, line)
        frame = frame.f_back
    return None


def _start_method() -> str:
    try:
        import dask

        return str(dask.config.get("distributed.worker.multiprocessing-method", "spawn"))
    except Exception:  # noqa: BLE001 - without dask's config: its default
        return "spawn"


@lru_cache(maxsize=8)
def _guarded_lines(path: str) -> Tuple[Tuple[int, int], ...]:
    """Line ranges of the ``if __name__ == "__main__":`` blocks of the script at ``path``."""
    try:
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), path)
    except (OSError, SyntaxError, ValueError):
        return ((0, sys.maxsize),)  # cannot tell: assume guarded, never a false alarm
    ranges = []
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_main_test(node.test):
            ranges.append((node.body[0].lineno, max(getattr(n, "end_lineno", n.lineno) for n in node.body)))
    return tuple(ranges)


def _is_main_test(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    mains = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(mains) == 1
