"""A progress bar for ``optimize(show_progress=True)``: tqdm.auto, so it works in a terminal
and in a notebook. tqdm is an optional extra, imported only when a bar is asked for."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:  # pragma: no cover
    from smacish.optimizer import Optimizer
    from smacish.runners import Limits


class ProgressBar:
    """Counts trials (or budget, when only ``budget_limit`` bounds the run) and shows the
    incumbent's cost and the number of busy workers."""

    def __init__(self, optimizer: "Optimizer", limits: "Limits"):
        try:
            from tqdm.auto import tqdm
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("show_progress=True needs tqdm: pip install 'smacish[progress]'") from err
        self.optimizer = optimizer
        self.by_budget = limits.n_trials is None and limits.budget_limit is not None
        total: Optional[float] = limits.budget_limit if self.by_budget else limits.n_trials
        self._done = self._position()
        self.bar = tqdm(total=total, initial=self._done, unit="budget" if self.by_budget else "trial",
                        desc="smacish", dynamic_ncols=True)

    def _position(self) -> float:
        opt = self.optimizer
        return opt.budget_spent if self.by_budget else len(opt.runhistory) - opt.n_warmstart_trials

    def update(self, *_: Any) -> None:
        position = self._position()
        self.bar.update(position - self._done)
        self._done = position
        opt = self.optimizer
        if opt.objectives:
            self.bar.set_postfix(front=len(opt.incumbents), busy=len(opt.pending), refresh=False)
            return
        best = opt.trajectory[-1].cost if len(opt.trajectory) else math.nan
        self.bar.set_postfix(incumbent=f"{best:.4g}", busy=len(opt.pending), refresh=False)

    def close(self) -> None:
        self.bar.close()
