"""smacish.analysis.importance: checked against functions whose variance decomposition is known
analytically, on RunHistories of uniform random samples and on a real smacish run.

Tolerances are measured, not guessed: the shares come from a forest of piecewise-constant
trees fitted to 200 points, which turns part of each smooth main effect into small spurious
interactions. Over seeds 0-9 (200 samples; ``python -m benchmarks.importance_accuracy``)
fANOVA's largest error on f = 2 x1 + sin(2 pi x2) was 0.052 (mean 0.036), on f = x1 x2 0.029
(mean 0.025), and permutation importance's largest error 0.126 (mean 0.069). The tests allow 0.08 (fANOVA) and
0.15 (permutation): above every measured error, well below the gaps between the true shares
that a wrong decomposition would produce (e.g. 0.4 vs 0.6, 3/7 vs 1/7).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from ConfigSpace import (
    Categorical,
    ConfigurationSpace,
    EqualsCondition,
    Float,
    ForbiddenEqualsClause,
    OrdinalHyperparameter,
)

import smacish
from smacish import analysis
from smacish.analysis import NotEnoughData, importance
from smacish.selection._encoding import SpaceEncoder

pd = pytest.importorskip("pandas")

# f = 2 x1 + sin(2 pi x2) + 0 x3 on uniform inputs: Var(2 x1) = 4/12, Var(sin) = 1/2, Var(0 x3) = 0
ADDITIVE_SHARES = {"x1": (4 / 12) / (4 / 12 + 1 / 2), "x2": (1 / 2) / (4 / 12 + 1 / 2), "x3": 0.0}
FANOVA_TOLERANCE = 0.08
PERMUTATION_TOLERANCE = 0.15


def additive(config, budget=1.0) -> float:
    return 2 * config["x1"] + math.sin(2 * math.pi * config["x2"]) + 0 * config["x3"]


def cube(seed: int = 0) -> ConfigurationSpace:
    return ConfigurationSpace({"x1": (0.0, 1.0), "x2": (0.0, 1.0), "x3": (0.0, 1.0)}, seed=seed)


def sampled(function, n: int = 200, seed: int = 0, budget: float = 1.0, space=None) -> smacish.RunHistory:
    """A RunHistory of ``n`` uniform random configurations, each run once on ``budget``."""
    cs = space if space is not None else cube(seed)
    rh = smacish.RunHistory(cs)
    for config in cs.sample_configuration(n):
        rh.add(smacish.TrialInfo(config, budget=budget), smacish.TrialValue(cost=function(config)))
    return rh


def shares(frame) -> dict:
    return dict(zip(frame["hyperparameter"], frame["importance"]))


# ---------------------------------------------------------------------- the analytic cross-checks
def test_fanova_matches_the_analytic_shares_of_an_additive_function() -> None:
    frame = importance(sampled(additive))
    assert list(frame.columns) == ["hyperparameter", "importance", "std"]
    assert frame.attrs == {"method": "fanova", "budget": 1.0}
    assert list(frame["hyperparameter"]) == ["x2", "x1", "x3"]  # ranked: 0.6, 0.4, 0
    got = shares(frame)
    for name, share in ADDITIVE_SHARES.items():
        assert got[name] == pytest.approx(share, abs=FANOVA_TOLERANCE), (name, got)
    assert got["x3"] < 0.01
    assert (frame["std"] > 0).all() and (frame["std"] < 0.1).all()
    assert list(frame["importance"]) == sorted(frame["importance"], reverse=True)


def test_fanova_finds_the_interaction_of_a_product() -> None:
    # f = x1 x2: main effects x/2 - 1/4 (variance 1/48 each), interaction (x1 - 1/2)(x2 - 1/2)
    # (variance 1/144), total 7/144: shares 3/7, 3/7 and 1/7; nothing for x3
    frame = importance(sampled(lambda c: c["x1"] * c["x2"]), pairs=True)
    got = shares(frame)
    assert set(got) == {"x1", "x2", "x3", "x1, x2", "x1, x3", "x2, x3"}
    assert got["x1"] == pytest.approx(3 / 7, abs=FANOVA_TOLERANCE)
    assert got["x2"] == pytest.approx(3 / 7, abs=FANOVA_TOLERANCE)
    assert got["x1, x2"] == pytest.approx(1 / 7, abs=FANOVA_TOLERANCE)
    assert max(got["x3"], got["x1, x3"], got["x2, x3"]) < 0.01
    assert sum(got.values()) == pytest.approx(1.0, abs=0.02)  # all but a tiny 3-way remainder
    assert list(frame["hyperparameter"][:3]) in (["x1", "x2", "x1, x2"], ["x2", "x1", "x1, x2"])


def test_permutation_importance_matches_the_additive_shares_too() -> None:
    frame = importance(sampled(additive), method="permutation")
    assert frame.attrs["method"] == "permutation"
    assert list(frame["hyperparameter"]) == ["x2", "x1", "x3"]
    got = shares(frame)
    for name, share in ADDITIVE_SHARES.items():
        assert got[name] == pytest.approx(share, abs=PERMUTATION_TOLERANCE), (name, got)
    assert ((frame["importance"] >= 0) & (frame["importance"] <= 1)).all()


def test_importance_of_a_real_run_on_a_chosen_budget() -> None:
    opt = smacish.Optimizer(cube(), smacish.Hyperband(min_budget=1, max_budget=9), selector="random", seed=0)
    opt.optimize(lambda config, budget: additive(config) + 1 / budget, n_trials=300)
    frame = importance(opt, budget=1)  # a constant 1/budget shifts no share
    assert frame.attrs["budget"] == 1.0
    assert list(frame["hyperparameter"]) == ["x2", "x1", "x3"]
    for name, share in ADDITIVE_SHARES.items():
        assert shares(frame)[name] == pytest.approx(share, abs=FANOVA_TOLERANCE)
    # by default: the highest budget with at least 10 configurations
    assert importance(opt).attrs["budget"] == 9.0


def test_the_decomposition_of_one_tree_is_exact() -> None:
    # f = [x1 > 1/2] + 2 [x2 > 1/2] on a grid: one unpruned tree is f itself; main effects
    # have variances 1/4 and 1, no interaction: shares 0.2 and 0.8 exactly
    from sklearn.tree import DecisionTreeRegressor

    cs = ConfigurationSpace({"x1": (0.0, 1.0), "x2": (0.0, 1.0)})
    grid = np.array([(a, b) for a in (0.1, 0.3, 0.7, 0.9) for b in (0.2, 0.4, 0.6, 0.8)])
    y = (grid[:, 0] > 0.5) + 2.0 * (grid[:, 1] > 0.5)
    tree = DecisionTreeRegressor(random_state=0).fit(grid, y)
    measures = analysis._measures(SpaceEncoder(cs), grid)
    got = analysis._fanova_tree(analysis._Partition.of(tree, measures), measures, pairs=True)
    assert got[(0,)] == pytest.approx(0.2)
    assert got[(1,)] == pytest.approx(0.8)
    assert got[(0, 1)] == pytest.approx(0.0, abs=1e-12)


# ---------------------------------------------------------------------- the kinds of hyperparameters
def conditional_space() -> ConfigurationSpace:
    cs = ConfigurationSpace(seed=0)
    kind, lr = Categorical("kind", ["a", "b", "c"]), Float("lr", (1e-4, 1.0), log=True)
    cs.add([kind, lr, OrdinalHyperparameter("size", ["s", "m", "l"]), Float("z", (0.0, 1.0)),
            EqualsCondition(lr, kind, "a")])
    return cs


def conditional_cost(config) -> float:
    lr = config["lr"] if "lr" in config else 0.0  # inactive unless kind == "a"
    return {"a": 0.0, "b": 1.0, "c": 2.0}[config["kind"]] + lr + 0.1 * ["s", "m", "l"].index(config["size"])


def test_conditional_categorical_and_ordinal_hyperparameters() -> None:
    rh = sampled(conditional_cost, n=150, space=conditional_space())
    frame = importance(rh, pairs=True)
    got = shares(frame)
    # kind (and lr, which is inactive exactly when kind is not "a": a tree may split on either)
    # carries almost all of the variance; size a little (Var 0.1 * {0,1,2} = 0.0067 of ~0.7); z none
    assert got["kind"] + got["lr"] + got["kind, lr"] > 0.95
    assert got["kind"] > got["size"] > got["z"]
    assert got["size"] == pytest.approx(0.0067 / 0.70, abs=0.02)
    assert got["z"] < 0.005
    assert all(0.0 <= v <= 1.0 for v in got.values())
    assert np.isfinite(frame["std"]).all()


def test_the_measure_integrated_over_is_the_spaces_own() -> None:
    rh = sampled(conditional_cost, n=150, space=conditional_space())
    encoder = SpaceEncoder(rh.configspace)
    X = encoder.encode_configs(rh.get_configs())
    inactive = float(np.mean([c.get("lr") is None for c in rh.get_configs()]))
    assert 0.5 < inactive < 0.8  # lr is active for kind == "a" only
    measures = dict(zip(encoder.names, analysis._measures(encoder, X)))
    for measure in measures.values():
        assert measure.of(-np.inf, np.inf) == pytest.approx(1.0)  # a probability measure
    lr = measures["lr"]  # inactive -> -1, active: uniform over its (log-scaled) vector range
    assert lr.of(-np.inf, -0.5) == pytest.approx(inactive)
    assert lr.of(0.0, 0.5) == pytest.approx((1 - inactive) / 2)
    assert measures["kind"].of(-np.inf, 0.5) == pytest.approx(1 / 3)  # category "a" of three
    assert measures["size"].of(0.25, 0.75) == pytest.approx(1 / 3)  # ordinal "m" at 0.5
    assert measures["z"].of(0.2, 0.3) == pytest.approx(0.1)


def test_auto_uses_permutation_for_a_space_with_forbidden_clauses() -> None:
    cs = conditional_space()
    cs.add(ForbiddenEqualsClause(cs["size"], "l"))
    frame = importance(sampled(conditional_cost, n=150, space=cs))
    assert frame.attrs["method"] == "permutation"
    assert frame["hyperparameter"][0] in ("kind", "lr")
    assert importance(sampled(conditional_cost, n=150, space=cs), method="fanova").attrs["method"] == "fanova"


# ---------------------------------------------------------------------- sources and budgets
def test_an_optimizer_a_runhistory_and_a_run_directory_give_the_same_answer(tmp_path: Path) -> None:
    opt = smacish.Optimizer(cube(), smacish.SuccessiveHalving(min_budget=1, max_budget=9), selector="random",
                            seed=1, output_dir=tmp_path / "run")
    opt.optimize(additive, n_trials=60)
    opt.close()
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (tmp_path / "run").rglob("*") if p.is_file()}
    frames = [importance(s) for s in (opt, opt.runhistory, tmp_path / "run", str(tmp_path / "run"))]
    for frame in frames[1:]:
        pd.testing.assert_frame_equal(frame, frames[0])
        assert frame.attrs == frames[0].attrs
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (tmp_path / "run").rglob("*") if p.is_file()}
    assert after == before  # read only
    assert importance(opt, seed=3)["importance"].tolist() != frames[0]["importance"].tolist()
    assert importance(opt, seed=0)["importance"].tolist() == frames[0]["importance"].tolist()


def test_crashed_trials_are_left_out_and_do_not_count() -> None:
    cs = cube()
    rh = smacish.RunHistory(cs)
    for i, config in enumerate(cs.sample_configuration(15)):
        ok = i < 9
        rh.add(smacish.TrialInfo(config, budget=3.0),
               smacish.TrialValue(cost=additive(config) if ok else math.inf,
                                  status=smacish.StatusType.SUCCESS if ok else smacish.StatusType.CRASHED))
    with pytest.raises(NotEnoughData, match=r"^importance needs at least 10 configurations with a "
                                            r"successful trial on one budget; this run has 9 \(on budget 3\)$"):
        importance(rh)
    config = cs.sample_configuration()
    rh.add(smacish.TrialInfo(config, budget=3.0), smacish.TrialValue(cost=additive(config)))
    assert importance(rh).attrs["budget"] == 3.0


def test_the_highest_budget_with_enough_configurations_is_chosen() -> None:
    rh = sampled(additive, n=30, budget=1.0)
    for config in rh.get_configs()[:12]:
        rh.add(smacish.TrialInfo(config, budget=3.0), smacish.TrialValue(cost=additive(config)))
    for config in rh.get_configs()[:4]:
        rh.add(smacish.TrialInfo(config, budget=9.0), smacish.TrialValue(cost=additive(config)))
    assert importance(rh).attrs["budget"] == 3.0
    assert importance(rh, budget=1).attrs["budget"] == 1.0
    with pytest.raises(NotEnoughData, match="this run has 4 on budget 9"):
        importance(rh, budget=9)
    with pytest.raises(ValueError, match="budget 5 is not a budget of this run; its budgets are 1, 3, 9"):
        importance(rh, budget=5)
    big = ConfigurationSpace({f"h{i}": (0.0, 1.0) for i in range(8)}, seed=0)
    assert analysis.min_configs(len(big)) == 16  # twice the hyperparameters, when that is more than 10


def test_runs_without_budgets() -> None:
    cs = cube()
    rh = smacish.RunHistory(cs)
    for config in cs.sample_configuration(40):
        rh.add(smacish.TrialInfo(config, instance="i1"), smacish.TrialValue(cost=additive(config)))
    frame = importance(rh)
    assert frame.attrs["budget"] is None
    assert frame["hyperparameter"][0] == "x2"
    with pytest.raises(ValueError, match="this run's trials have no budgets"):
        importance(rh, budget=1)


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "shap"}, r"method is 'shap', but must be one of \('auto', 'fanova', 'permutation'\)"),
    ({"n_trees": 0}, "n_trees is 0, but must be an integer >= 1"),
])
def test_bad_arguments_are_refused(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        importance(sampled(additive, n=20), **kwargs)


def test_bad_sources_and_empty_or_flat_runs() -> None:
    with pytest.raises(TypeError, match="expected an Optimizer, a RunHistory or a run directory"):
        importance(42)
    with pytest.raises(NotEnoughData, match="this run has 0$"):
        importance(smacish.RunHistory(cube()))
    with pytest.raises(FileNotFoundError):
        importance("/nonexistent/run-dir")
    flat = sampled(lambda c: 0.5, n=20)
    for method in ("fanova", "permutation"):
        with pytest.raises(NotEnoughData, match=r"has the same cost \(0.5\): there is no variance"):
            importance(flat, method=method)
