"""The docs site builds with warnings as errors, and every ```python block of docs/ runs.

Blocks of one page run in order in one namespace, in a fresh working directory, as a reader
would paste them. A block whose first line is ``# not run: <reason>`` is skipped (for what
cannot run here, such as a SLURM cluster).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
SKIP_MARK = "# not run:"

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)\s*(?P<info>[^\n`]*)$")


def python_blocks(text: str) -> List[Tuple[int, str]]:
    """``(line number, code)`` of each fenced ```python block of a Markdown text."""
    blocks: List[Tuple[int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, indent = match.group("fence"), match.group("indent")
        language = match.group("info").strip().split(" ")[0].lstrip(".").lower() if match.group("info") else ""
        start = i + 1
        j = start
        while j < len(lines) and not (lines[j].strip().startswith(fence) and lines[j].strip().strip(fence[0]) == ""):
            j += 1
        if language in ("python", "py"):
            body = "\n".join(line[len(indent):] if line.startswith(indent) else line for line in lines[start:j])
            blocks.append((start + 1, textwrap.dedent(body)))
        i = j + 1
    return blocks


OUTPUT_MARK = re.compile(r"^<!-- output(?: of: (?P<command>.+?))? -->$")


def expected_outputs(text: str) -> List[Tuple[int, Optional[str], str]]:
    """``(line number, command, expected text)`` for each fenced block that follows a line
    ``<!-- output -->`` (the printed output of the ```python block before it; command None) or
    ``<!-- output of: smacish ... -->`` (what that command prints, run at that point of the
    page). ``...`` in the expected text matches anything, as doctest's ELLIPSIS."""
    lines = text.splitlines()
    found = []
    for i, line in enumerate(lines):
        match = OUTPUT_MARK.match(line.strip())
        if not match:
            continue
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        assert j < len(lines) and _FENCE.match(lines[j]), f"line {i + 1}: an output mark needs a fenced block after it"
        k = j + 1
        while k < len(lines) and not lines[k].strip().startswith("```"):
            k += 1
        found.append((i + 1, match.group("command"), "\n".join(lines[j + 1:k])))
    return found


def output_matches(expected: str, got: str) -> bool:
    pattern = ".*?".join(re.escape(part) for part in expected.strip().split("..."))
    return re.fullmatch(pattern, got.strip(), re.DOTALL) is not None


def test_output_matching() -> None:
    assert output_matches("trials: ... finished\nrun time: ...s", "trials: 40 finished\nrun time: 3.6 s")
    assert not output_matches("trials: 40 finished", "trials: 33 finished")
    page = "```python\nprint(1)\n```\n\n<!-- output -->\n```text\n1\n```\n"
    assert expected_outputs(page) == [(5, None, "1")]


def test_python_blocks_parser() -> None:
    text = "a\n```python\nx = 1\n```\n```bash\nls\n```\n    ```python\n    y = 2\n    ```\n```text\n```python\n```\n"
    assert python_blocks(text) == [(3, "x = 1"), (9, "y = 2")]


def test_every_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    missing = [page for page in PAGES if page not in nav]
    assert not missing, f"pages missing from mkdocs.yml's nav: {missing}"


def test_docs_build_strict(tmp_path: Path) -> None:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    site = tmp_path / "site"
    for page in ("index.html", "quickstart/index.html", "reference/optimizer/index.html", "faq/index.html"):
        assert (site / page).exists(), page
    api = (site / "reference/optimizer/index.html").read_text()
    assert "smacish.Optimizer" in api or "Optimizer" in api
    assert "optimize" in api and "ask" in api and "tell" in api
    for image in sorted((DOCS / "img").glob("*.png")):
        assert (site / "img" / image.name).exists(), image.name


def test_images_are_used_and_exist() -> None:
    text = "\n".join((DOCS / page).read_text() for page in PAGES)
    used = set(re.findall(r"img/([\w.-]+\.png)", text))
    assert used, "the docs show no figures"
    missing = sorted(name for name in used if not (DOCS / "img" / name).exists())
    assert not missing, f"figures referenced but not in docs/img (run docs/make_images.py): {missing}"


@pytest.mark.timeout(600)
@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks((DOCS / p).read_text())])
def test_code_blocks_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__main__"}
    ran = 0
    text = (DOCS / page).read_text()
    steps = sorted([(n, "code", code) for n, code in python_blocks(text)]
                   + [(n, "output", (command, expected)) for n, command, expected in expected_outputs(text)],
                   key=lambda step: step[0])
    printed = ""  # what the last python block printed
    try:
        for lineno, kind, item in steps:
            if kind == "output":
                command, expected = item
                if command is not None:
                    assert command.startswith("smacish "), f"docs/{page}:{lineno}: only smacish commands are run"
                    proc = subprocess.run([sys.executable, "-m", "smacish", *shlex.split(command)[1:]],
                                          capture_output=True, text=True, timeout=120)
                    printed = proc.stdout
                assert output_matches(expected, printed), (
                    f"docs/{page}:{lineno}: the page shows\n{expected}\nbut the code prints\n{printed}")
                continue
            code = item
            if code.lstrip().startswith(SKIP_MARK):
                reason = code.lstrip().splitlines()[0][len(SKIP_MARK):].strip()
                assert reason, f"docs/{page}:{lineno}: '# not run:' needs a reason"
                continue
            out = io.StringIO()
            try:
                with contextlib.redirect_stdout(out):
                    exec(compile(code, f"docs/{page}:{lineno}", "exec"), namespace)
            except Exception as err:  # noqa: BLE001 - report which block failed
                raise AssertionError(f"docs/{page}, block at line {lineno} failed: {err!r}") from err
            printed = out.getvalue()
            ran += 1
    finally:
        plt.close("all")
        for value in list(namespace.values()):  # close clusters and clients a page left open
            close = getattr(value, "close", None)
            if type(value).__name__ in ("Client", "LocalCluster") and callable(close):
                close()
    assert ran, f"docs/{page}: every block is marked '# not run'"
