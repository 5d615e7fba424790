"""The serial run of a fixed seed asks the same trials, release after release, and a run that
stops and is loaded again asks what the uninterrupted run asks. The sequences in
``data/recorded_sequences.json`` were recorded before the Optimizer was split into its core
and its run directory; a refactoring that changes a single trial fails here.

Regenerate (only for a deliberate change of behaviour, said so in the commit):
``python tests/test_recorded_sequence.py``. The asynchronous cases (``asynchronous=True``) are
kept apart, in ``data/recorded_sequences_async.json``: ``python tests/test_recorded_sequence.py
--async`` rewrites that file only.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from ConfigSpace import Categorical, ConfigurationSpace, Float, Integer

import smacish
from smacish import StatusType, TrialValue

DATA = Path(__file__).parent / "data" / "recorded_sequences.json"
ASYNC_DATA = Path(__file__).parent / "data" / "recorded_sequences_async.json"
CASES = {
    "sh-random": dict(intensifier="sh", selector="random", n_trials=40),
    "hb-random-crashes": dict(intensifier="hb", selector="random", n_trials=60, crash_every=7),
    # recorded when "cycle" was the default bracket order; the same trials as then
    "hb-cycle-random-crashes": dict(intensifier="hb-cycle", selector="random", n_trials=60, crash_every=7),
    "hb-rf": dict(intensifier="hb", selector="rf", n_trials=45),
    "hb-kde": dict(intensifier="hb", selector="kde", n_trials=45),
}
ASYNC_CASES = {
    "asha-sh-random-crashes": dict(intensifier="asha-sh", selector="random", n_trials=60, crash_every=7),
    "asha-hb-rf": dict(intensifier="asha-hb", selector="rf", n_trials=45),
}


def space() -> ConfigurationSpace:
    return ConfigurationSpace(
        {"x": Float("x", (-3.0, 3.0)), "lr": Float("lr", (1e-4, 1.0), log=True),
         "n": Integer("n", (1, 20)), "kind": Categorical("kind", ["a", "b", "c"])}, seed=3)


def cost(config: Any, budget: float) -> float:
    offset = {"a": 0.0, "b": 0.3, "c": 0.8}[config["kind"]]
    return (config["x"] - 1) ** 2 + math.log10(config["lr"]) ** 2 / 10 + abs(config["n"] - 7) / 20 + offset + 1.0 / budget


def intensifier(kind: str) -> Any:
    asynchronous = kind.startswith("asha-")
    if kind.rpartition("-")[2] == "sh":
        return smacish.SuccessiveHalving(min_budget=1, max_budget=9, eta=3, asynchronous=asynchronous)
    order = {"bracket_order": "cycle"} if kind.endswith("-cycle") else {}
    return smacish.Hyperband(min_budget=1, max_budget=27, eta=3, asynchronous=asynchronous, **order)


def record(case: Dict[str, Any], output_dir: Optional[Path] = None, stop_after: Optional[int] = None) -> List[list]:
    """Ask and tell ``n_trials`` trials with two in flight (every 7th crashes in the crash case,
    every 11th is aborted once); with ``output_dir`` the run stops after ``stop_after`` tells
    and is loaded again."""
    opt = smacish.Optimizer(space(), intensifier(case["intensifier"]), selector=case["selector"], seed=11,
                            n_workers=2, output_dir=output_dir, durable=False)
    out: List[list] = []
    pending: List[Any] = []
    aborted = set()
    told = 0
    while told < case["n_trials"]:
        while len(pending) < 2:
            info = opt.ask()
            pending.append(info)
            out.append([list(info.config_id), info.budget, sorted(dict(info.config).items())])
        info = pending.pop(0)
        told += 1
        if told % 11 == 0 and info.key not in aborted:
            aborted.add(info.key)
            opt.tell(info, TrialValue(cost=math.inf, status=StatusType.ABORTED))
        elif case.get("crash_every") and told % case["crash_every"] == 0:
            opt.tell(info, TrialValue(cost=math.inf, status=StatusType.CRASHED))
        else:
            opt.tell(info, cost(info.config, info.budget))
        if output_dir is not None and told == stop_after:
            opt.close()
            opt = smacish.Optimizer.load(output_dir)
            pending = []  # the loaded run hands out the trials that were pending again, first
    opt.close()
    return [[cid, budget, [[k, _plain(v)] for k, v in values]] for cid, budget, values in out]


def _plain(value: Any) -> Any:
    """A hyperparameter value as JSON keeps it (numpy scalars to Python, floats to 10 digits)."""
    value = value.item() if hasattr(value, "item") else value
    return round(value, 10) if isinstance(value, float) else value


def recorded() -> Dict[str, List[list]]:
    return json.loads(DATA.read_text())


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_fixed_seed_asks_the_recorded_trials(name: str) -> None:
    assert record(CASES[name]) == recorded()[name]


@pytest.mark.parametrize("name", ["hb-random-crashes", "hb-rf"])
def test_a_run_loaded_midway_asks_the_recorded_trials(name: str, tmp_path: Path) -> None:
    got = record(CASES[name], output_dir=tmp_path / "run", stop_after=23)
    want = recorded()[name]
    # 24 asks before the stop (23 told, one pending); the loaded run hands the pending one out
    # again first, and from there on asks what the uninterrupted run asked
    assert got == want[:24] + [want[23]] + want[24:len(got) - 1]


@pytest.mark.parametrize("name", sorted(ASYNC_CASES))
def test_a_fixed_seed_asks_the_recorded_asynchronous_trials(name: str) -> None:
    assert record(ASYNC_CASES[name]) == json.loads(ASYNC_DATA.read_text())[name]


@pytest.mark.parametrize("name", sorted(ASYNC_CASES))
def test_an_asynchronous_run_loaded_midway_asks_the_recorded_trials(name: str, tmp_path: Path) -> None:
    got = record(ASYNC_CASES[name], output_dir=tmp_path / "run", stop_after=23)
    want = json.loads(ASYNC_DATA.read_text())[name]
    assert got == want[:24] + [want[23]] + want[24:len(got) - 1]


if __name__ == "__main__":
    import sys

    if "--async" in sys.argv:
        ASYNC_DATA.write_text(json.dumps({name: record(case) for name, case in ASYNC_CASES.items()}) + "\n")
        print(f"wrote {ASYNC_DATA}")
    else:
        DATA.write_text(json.dumps({name: record(case) for name, case in CASES.items()}, indent=None) + "\n")
        print(f"wrote {DATA}")


def test_get_state_and_set_state_continue_the_run_exactly() -> None:
    """A new Optimizer given another's state asks what that one asks next, and says so in JSON."""
    def fresh() -> smacish.Optimizer:
        return smacish.Optimizer(space(), intensifier("hb"), selector="rf", seed=5, n_workers=2)

    first = fresh()
    pending = [first.ask(), first.ask()]
    for _ in range(20):
        info = pending.pop(0)
        first.tell(info, cost(info.config, info.budget))
        pending.append(first.ask())
    state = json.loads(json.dumps(first.get_state()))  # JSON through and through
    second = fresh()
    second.set_state(state)
    assert [i.key for i in second.pending] == [i.key for i in first.pending]
    assert len(second.runhistory) == len(first.runhistory) == 20
    for _ in range(15):
        a, b = first.pending[0], second.pending[0]
        first.tell(a, cost(a.config, a.budget))
        second.tell(b, cost(b.config, b.budget))
        na, nb = first.ask(), second.ask()
        assert (na.key, dict(na.config)) == (nb.key, dict(nb.config))
    with pytest.raises(ValueError, match="needs a new Optimizer"):
        first.set_state(state)
