"""mkdocs hook for docstrings written for both doctest and Sphinx habits:

- doctest examples (``>>>`` lines and their output) are shown as code blocks; without it
  Markdown reads them as prose, and an output such as ``[0.5, 0.1]`` as a broken reference link;
- Sphinx roles (``:class:`Foo```, ``:meth:`bar```) are shown as inline code.

Loaded by ``hooks:`` in mkdocs.yml; applies to the pages and to the API reference alike.
"""

from __future__ import annotations

import re
from typing import List

from markdown import Extension
from markdown.preprocessors import Preprocessor

_FENCE = re.compile(r"^\s*(```|~~~)")
_PROMPT = re.compile(r"^(\s*)>>>( |$)")
_ROLE = re.compile(r":(?:class|meth|func|attr|mod|obj|exc|data):`~?([^`]+)`")


class _DoctestFences(Preprocessor):
    def run(self, lines: List[str]) -> List[str]:
        out: List[str] = []
        in_fence = False
        in_doctest = False
        indent = ""
        for line in lines:
            if in_doctest:
                if line.strip():
                    out.append(line)
                    continue
                out.append(f"{indent}```")
                in_doctest = False
            if _FENCE.match(line):
                in_fence = not in_fence
            elif not in_fence:
                line = _ROLE.sub(r"`\1`", line)
                prompt = _PROMPT.match(line)
                if prompt:
                    indent = prompt.group(1)
                    if out and out[-1].strip():
                        out.append("")
                    out.append(f"{indent}```pycon")
                    in_doctest = True
            out.append(line)
        if in_doctest:
            out.append(f"{indent}```")
        return out


class DoctestFences(Extension):
    def extendMarkdown(self, md) -> None:  # noqa: N802 - Markdown's API
        # before pymdownx.superfences / fenced_code (priority 25), which turn fences into code
        md.preprocessors.register(_DoctestFences(md), "smacish_doctest_fences", 40)


def on_config(config, **kwargs):
    config.markdown_extensions.append(DoctestFences())
    return config
