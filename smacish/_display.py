"""How an Optimizer shows itself in a notebook (``_repr_html_``)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from smacish.optimizer import Optimizer


def optimizer_html(opt: "Optimizer") -> str:
    """A table: intensifier, selector, trials, budget spent, the incumbent and its values."""
    inc = opt.runhistory.incumbent_entry(opt.intensifier.incumbent_selection, opt.intensifier.max_budget)
    rows = [
        ("intensifier", html.escape(repr(opt.intensifier))),
        ("selector", html.escape(type(opt.selector).__name__)),
        ("trials", f"{len(opt.runhistory)} finished, {len(opt.pending)} pending"),
        ("budget spent", f"{opt.budget_spent:g}"),
        ("incumbent", f"cost {inc.cost:.6g} on budget {inc.budget:g}" if inc else "none yet"),
    ]
    if inc is not None:
        rows += [(f"&nbsp;&nbsp;{html.escape(str(k))}", html.escape(str(v))) for k, v in dict(inc.config).items()]
    if opt.output_dir is not None:
        rows.append(("output_dir", html.escape(str(opt.output_dir))))
    body = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<table><caption>smacish.Optimizer</caption>{body}</table>"
