"""The MLP of :mod:`benchmarks.continued_training`: scikit-learn's ``MLPClassifier`` trained epoch
by epoch with ``partial_fit`` on digits, under smacish (continuing from a checkpoint, or from
scratch) and under Optuna's ``HyperbandPruner``.

The task is :mod:`benchmarks.ml_tasks`'s ``mlp-digits-test``: its search space, its
train / validation split by seed and its fixed test part; budget = epochs 1..27. A model
trained 3 epochs, pickled and trained 6 more is the same model as one trained 9 epochs from
scratch (``partial_fit`` keeps its random state), so every method sees the same validation
error for the same configuration and budget: they differ only in what the budget costs.

Library-neutral at import (numpy and scikit-learn): it runs in the Optuna venv as well. Each run
returns a :class:`benchmarks.record.Recorder` record (rows ``start, end, budget, charge, cost``;
charge = the epochs the evaluation actually trained), its top-budget evaluations, the epochs
trained, the wall time and the test error of the chosen configuration.
"""

from __future__ import annotations

import pickle
import time
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from benchmarks.ml_tasks import split
from benchmarks.problems import Problem
from benchmarks.record import Recorder, final_value

VARIANTS = ("smacish-rf-continued", "smacish-rf", "optuna-tpe-hb")
DATASET = "digits"


def new_model(x: Dict[str, Any], seed: int) -> Any:
    """An untrained model of configuration ``x`` (as ``benchmarks.ml_tasks._mlp`` builds it)."""
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=(int(x["units"]),), alpha=float(x["alpha"]),
                         learning_rate_init=float(x["learning_rate_init"]), batch_size=int(x["batch_size"]),
                         random_state=seed)


def train(model: Any, epochs: int, data: Tuple[np.ndarray, ...]) -> Any:
    """``epochs`` more passes of ``partial_fit`` over the seed's train part."""
    X_tr, y_tr = data[0], data[3]
    classes = np.unique(y_tr)
    for _ in range(epochs):
        model.partial_fit(X_tr, y_tr, classes=classes)
    return model


def validation_error(model: Any, data: Tuple[np.ndarray, ...]) -> float:
    return 1.0 - float(model.score(data[1], data[4]))


def _record(rec: Recorder, x: Dict[str, Any], budget: float, charge: float, cost: float, start: float) -> None:
    """One evaluation, as :meth:`Recorder.evaluate` stores it (the training happened outside)."""
    rec.rows.append([start - rec.t0, time.perf_counter() - rec.t0, float(budget), float(charge), float(cost)])
    rec.xs.append([float(x[p.name]) for p in rec.problem.params])
    rec.spent += charge / rec.problem.max_budget


def run(variant: str, problem: Problem, seed: int, units: float) -> Dict[str, Any]:
    """One run of ``variant`` on ``units`` x 27 epochs of budget."""
    if variant not in VARIANTS:
        raise ValueError(f"variant is {variant!r}, but must be one of {', '.join(VARIANTS)}")
    rec = Recorder(problem, seed)
    limit = units * problem.max_budget
    t0 = time.perf_counter()
    rec.start()
    (_optuna if variant.startswith("optuna") else _smacish)(variant, problem, seed, limit, rec)
    seconds = time.perf_counter() - t0
    out = rec.to_json()
    out.update(seconds=seconds, epochs=sum(r[3] for r in rec.rows),
               top=sum(1 for r in rec.rows if r[2] >= problem.max_budget - 1e-9),
               test_error=final_value(problem, out, seed))
    return out


def _smacish(variant: str, problem: Problem, seed: int, limit: float, rec: Recorder) -> None:
    """``Optimizer.optimize`` with smacish's default Hyperband and selector; the continued
    target keeps its model in ``trial.checkpoint_dir`` and resumes from it."""
    from benchmarks.peers.smacish_adapter import make_optimizer

    data = split(DATASET, seed)
    opt = make_optimizer(variant.replace("-continued", ""), problem, seed)

    def from_scratch(config: Any, budget: float) -> float:
        start, x = time.perf_counter(), dict(config)
        cost = validation_error(train(new_model(x, seed), int(round(budget)), data), data)
        _record(rec, x, budget, budget, cost, start)
        return cost

    def continued(config: Any, budget: float, trial: Any) -> dict:
        start, x = time.perf_counter(), dict(config)
        path = trial.checkpoint_dir / "model.pkl"
        previous = trial.previous_budget
        if previous is None:
            model, done = new_model(x, seed), 0
        else:
            with open(path, "rb") as fh:
                model = pickle.load(fh)  # our own checkpoint, written below
            done = int(round(previous))
        train(model, int(round(budget)) - done, data)
        with open(path, "wb") as fh:
            pickle.dump(model, fh)
        cost = validation_error(model, data)
        _record(rec, x, budget, budget - done, cost, start)
        return {"cost": cost, "continued_from": previous}

    target: Callable[..., Any] = continued if variant.endswith("-continued") else from_scratch
    opt.optimize(target, budget_limit=limit)


def _optuna(variant: str, problem: Problem, seed: int, limit: float, rec: Recorder) -> None:
    """TPE with the HyperbandPruner, its users' way: the objective trains epoch by epoch,
    reports the validation error after each and stops when ``trial.should_prune()``; the study
    stops once the epochs trained reach the budget."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = split(DATASET, seed)
    top = int(problem.max_budget)
    rungs = {int(round(problem.min_budget * problem.eta**k)) for k in range(8)}
    spent = [0]

    def objective(trial: Any) -> float:
        x = {p.name: (trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log) if p.kind == "int"
                      else trial.suggest_float(p.name, p.low, p.high, log=p.log)) for p in problem.params}
        model, last, start = new_model(x, seed), 0, time.perf_counter()
        cost: Optional[float] = None
        for epoch in range(1, top + 1):
            train(model, 1, data)
            spent[0] += 1
            cost = validation_error(model, data)
            trial.report(cost, epoch)
            pruned = trial.should_prune()
            if pruned or epoch in rungs or epoch == top:  # a row per rung the trial reached
                _record(rec, x, epoch, epoch - last, cost, start)
                last, start = epoch, time.perf_counter()
            if pruned:
                raise optuna.TrialPruned()
        return float(cost)

    def stop(study: Any, trial: Any) -> None:
        if spent[0] >= limit:
            study.stop()

    sampler = optuna.samplers.TPESampler(seed=seed)
    pruner = optuna.pruners.HyperbandPruner(min_resource=int(problem.min_budget), max_resource=top,
                                            reduction_factor=int(problem.eta))
    study = optuna.create_study(sampler=sampler, pruner=pruner, direction="minimize", study_name=f"mlp-{seed}")
    study.optimize(objective, callbacks=[stop])
