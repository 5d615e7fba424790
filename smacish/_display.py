"""How an Optimizer shows itself: in a notebook (``_repr_html_``) and in its log, a line per tell."""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING

from smacish.trial import format_cost

if TYPE_CHECKING:  # pragma: no cover
    from smacish.optimizer import Optimizer
    from smacish.trial import TrialInfo, TrialValue

logger = logging.getLogger("smacish")


def optimizer_html(opt: "Optimizer") -> str:
    """A table: intensifier, selector, trials, budget spent, the incumbent and its values."""
    front = opt.incumbents
    inc = front[0] if front and not opt.objectives else None
    best = (f"cost {inc.cost:.6g} on budget {inc.budget:g}" if inc else
            f"{len(front)} on the Pareto front of {', '.join(opt.objectives)}" if front else "none yet")
    rows = [
        ("intensifier", html.escape(repr(opt.intensifier))),
        ("selector", html.escape(type(opt.selector).__name__)),
        ("trials", f"{len(opt.runhistory)} finished, {len(opt.pending)} pending"),
        ("budget spent", f"{opt.budget_spent:g}"),
        ("incumbent", best),
    ]
    if inc is not None:
        rows += [(f"&nbsp;&nbsp;{html.escape(str(k))}", html.escape(str(v))) for k, v in dict(inc.config).items()]
    elif front:
        rows += [(f"&nbsp;&nbsp;config {m.config_id}", html.escape(format_cost(m.cost))) for m in front[:20]]
    if opt.output_dir is not None:
        rows.append(("output_dir", html.escape(str(opt.output_dir))))
    body = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<table><caption>smacish.Optimizer</caption>{body}</table>"


def log_told(opt: "Optimizer", info: "TrialInfo", value: "TrialValue", new_incumbent: bool) -> None:
    """The INFO line for a told trial: its id, budget, cost and status, and the incumbent's cost."""
    if logger.isEnabledFor(logging.INFO):
        best = format_cost(opt.trajectory[-1].cost) if len(opt.trajectory) else "nan"
        logger.info(
            "trial %d: config_id=%s budget=%s cost=%s status=%s; %s %s%s",
            len(opt.runhistory), info.config_id, info.budget, format_cost(value.cost), value.status.value,
            "new on the front" if opt.objectives else "incumbent cost", best, " (new)" if new_incumbent else "",
        )
