"""Result: every run of an HpBandSter-style optimisation, and its live JSON log.

``json_result_logger`` writes ``configs.json`` and ``results.json`` while the run goes, one JSON
document per line in HpBandSter's layout; ``logged_results_to_HBS_result`` reads them back
(files written by HpBandSter itself included) into the same :class:`Result` that ``run()``
returns.
"""

from __future__ import annotations

import copy
import json
import math
import os
from typing import Any, Callable, Dict, List, Optional, Tuple

from smacish._io import to_builtin
from smacish.compat.hpbandster.core.base_iteration import ConfigId, Datum


class Run:
    """One run: ``config_id``, ``budget``, ``loss`` (None if it failed), ``info``,
    ``time_stamps`` (``submitted``/``started``/``finished``, seconds since the run started) and
    ``error_logs`` (the traceback of a failed run)."""

    def __init__(
        self,
        config_id: ConfigId,
        budget: float,
        loss: Optional[float],
        info: Any,
        time_stamps: Dict[str, float],
        error_logs: Optional[str],
    ):
        self.config_id = config_id
        self.budget = budget
        self.error_logs = error_logs
        self.loss = loss
        self.info = info
        self.time_stamps = time_stamps

    def __repr__(self) -> str:
        stamps = ", ".join(f"{v} ({k})" for k, v in self.time_stamps.items())
        return (
            f"config_id: {self.config_id}\tbudget: {self.budget:f}\tloss: {self.loss}\n"
            f"time_stamps: {stamps}\ninfo: {self.info}\n"
        )

    def __getitem__(self, k: str) -> Any:
        return getattr(self, k)


def extract_HBS_learning_curves(runs: List[Run]) -> List[List[Tuple[float, float]]]:
    """The learning curve of one configuration: ``[[(budget, loss), ...]]``, failed runs left
    out (the default extractor of :meth:`Result.get_learning_curves`)."""
    ordered = sorted(runs, key=lambda r: r.budget)
    return [[(r.budget, r.loss) for r in ordered if r.loss is not None]]


extract_HB_learning_curves = extract_HBS_learning_curves  # HpBandSter's older name


def _json_default(value: Any) -> Any:
    converted = to_builtin(value)
    if converted is not value:
        return converted
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return repr(value)  # anything else is logged as its repr rather than stopping the run


def _dumps(value: Any) -> str:
    return json.dumps(to_builtin(value), default=_json_default)


class json_result_logger:
    """Writes every configuration (``configs.json``) and every finished run (``results.json``)
    as it happens, one JSON list per line, in HpBandSter's layout::

        [config_id, config, config_info]
        [config_id, budget, {"submitted": t, "started": t, "finished": t},
         {"loss": ..., "info": ...} or null, exception or null]

    Args:
        directory: where the two files go (created if needed).
        overwrite: replace existing files; by default an existing file raises FileExistsError.
    """

    def __init__(self, directory: str, overwrite: bool = False):
        os.makedirs(directory, exist_ok=True)
        self.config_fn = os.path.join(directory, "configs.json")
        self.results_fn = os.path.join(directory, "results.json")
        for fn in (self.config_fn, self.results_fn):
            try:
                with open(fn, "x"):
                    pass
            except FileExistsError:
                if not overwrite:
                    raise FileExistsError(f"The file {fn} already exists.") from None
                with open(fn, "w"):
                    pass
        self.config_ids: set = set()

    def new_config(self, config_id: ConfigId, config: Dict[str, Any], config_info: Any) -> None:
        if config_id not in self.config_ids:
            self.config_ids.add(config_id)
            self._append(self.config_fn, [config_id, config, config_info])

    def __call__(self, job: Any) -> None:
        if job.id not in self.config_ids:
            self.config_ids.add(job.id)
            self._append(self.config_fn, [job.id, job.kwargs["config"], {}])
        self._append(
            self.results_fn, [job.id, job.kwargs["budget"], job.timestamps, job.result, job.exception]
        )

    @staticmethod
    def _append(path: str, row: list) -> None:
        with open(path, "a") as fh:
            fh.write(_dumps(row) + "\n")


def _read_lines(path: str) -> List[Any]:
    rows = []
    with open(path) as fh:
        lines = fh.readlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):  # the last line of a live log, being written
                break
            raise ValueError(f"{path}, line {number} is not valid JSON") from None
    return rows


def logged_results_to_HBS_result(directory: str) -> "Result":
    """Read ``configs.json`` and ``results.json`` of ``directory`` (written by
    :class:`json_result_logger`, or by HpBandSter) into a :class:`Result`; also while the run
    is still writing them."""
    data: Dict[ConfigId, Datum] = {}
    time_ref = math.inf
    budget_set = set()
    for line in _read_lines(os.path.join(directory, "configs.json")):
        if len(line) == 3:
            config_id, config, config_info = line
        else:
            config_id, config = line[:2]
            config_info = "N/A"
        data[tuple(config_id)] = Datum(config=config, config_info=config_info)
    for config_id, budget, time_stamps, result, exception in _read_lines(
        os.path.join(directory, "results.json")
    ):
        key = tuple(config_id)
        if key not in data:  # a result whose configuration line is missing
            data[key] = Datum(config={}, config_info="N/A")
        data[key].time_stamps[budget] = time_stamps
        data[key].results[budget] = result
        data[key].exceptions[budget] = exception
        budget_set.add(budget)
        time_ref = min(time_ref, time_stamps["submitted"])
    budget_list = sorted(budget_set)
    HB_config = {
        "eta": None if len(budget_list) < 2 else budget_list[1] / budget_list[0],
        "min_budget": min(budget_set) if budget_set else None,
        "max_budget": max(budget_set) if budget_set else None,
        "budgets": budget_list,
        "max_SH_iter": len(budget_set),
        "time_ref": time_ref if budget_set else 0.0,
    }
    return Result([data], HB_config)


logged_results_to_HB_result = logged_results_to_HBS_result  # HpBandSter's older name


class Result:
    """Every configuration and run of an optimisation; returned by ``run()``.

    ``HB_iteration_data`` is a list of ``{config_id: Datum}`` (one per iteration), merged into
    ``self.data``; time stamps become seconds since ``HB_config['time_ref']``.
    """

    def __init__(self, HB_iteration_data: List[Dict[ConfigId, Datum]], HB_config: Dict[str, Any]):
        self.data = HB_iteration_data
        self.HB_config = HB_config
        self._merge_results()

    def __getitem__(self, k: ConfigId) -> Datum:
        return self.data[k]

    def _merge_results(self) -> None:
        merged: Dict[ConfigId, Datum] = {}
        for iteration in self.data:
            merged.update(iteration)
        time_ref = self.HB_config["time_ref"]
        for datum in merged.values():
            for stamps in datum.time_stamps.values():
                for k in stamps:
                    stamps[k] = stamps[k] - time_ref
        self.data = merged

    # ------------------------------------------------------------------ incumbent
    def get_incumbent_id(self) -> Optional[ConfigId]:
        """The config_id with the smallest loss among the runs on the maximum budget (None if
        no run on that budget succeeded)."""
        candidates = []
        for config_id, datum in self.data.items():
            res = datum.results.get(self.HB_config["max_budget"])
            if res is not None and res.get("loss") is not None:
                candidates.append((res["loss"], config_id))
        return min(candidates)[1] if candidates else None

    def get_incumbent_trajectory(
        self, all_budgets: bool = True, bigger_is_better: bool = True, non_decreasing_budget: bool = True
    ) -> Dict[str, list]:
        """The incumbent over time: ``config_ids``, ``times_finished``, ``budgets``, ``losses``.

        Args:
            all_budgets: any budget's run can become the incumbent (False: the maximum only).
            bigger_is_better: a run on a larger budget replaces the incumbent even with a larger loss.
            non_decreasing_budget: a run on a smaller budget than the incumbent's never replaces it.
        """
        all_runs = self.get_all_runs(only_largest_budget=not all_budgets)
        if not all_budgets:
            all_runs = [r for r in all_runs if r.budget == self.HB_config["max_budget"]]
        all_runs.sort(key=lambda r: r.time_stamps["finished"])
        trajectory: Dict[str, list] = {"config_ids": [], "times_finished": [], "budgets": [], "losses": []}
        current = math.inf
        incumbent_budget = self.HB_config["min_budget"]
        for r in all_runs:
            if r.loss is None:
                continue
            new = (bigger_is_better and r.budget > incumbent_budget) or r.loss < current
            if non_decreasing_budget and r.budget < incumbent_budget:
                new = False
            if new:
                current, incumbent_budget = r.loss, r.budget
                trajectory["config_ids"].append(r.config_id)
                trajectory["times_finished"].append(r.time_stamps["finished"])
                trajectory["budgets"].append(r.budget)
                trajectory["losses"].append(r.loss)
        if trajectory["config_ids"] and current != all_runs[-1].loss:
            # the incumbent lasts until the last run finished
            trajectory["config_ids"].append(trajectory["config_ids"][-1])
            trajectory["times_finished"].append(all_runs[-1].time_stamps["finished"])
            trajectory["budgets"].append(trajectory["budgets"][-1])
            trajectory["losses"].append(trajectory["losses"][-1])
        return trajectory

    # ------------------------------------------------------------------ runs
    def get_runs_by_id(self, config_id: ConfigId) -> List[Run]:
        """The runs of one configuration, by ascending budget (``[-1]`` is its longest run)."""
        datum = self.data[config_id]
        runs = []
        for budget, res in datum.results.items():
            error_logs = datum.exceptions.get(budget)
            if res is None:
                runs.append(Run(config_id, budget, None, None, datum.time_stamps[budget], error_logs))
            else:
                runs.append(
                    Run(
                        config_id,
                        budget,
                        res.get("loss"),
                        res.get("info"),
                        datum.time_stamps[budget],
                        error_logs,
                    )
                )
        runs.sort(key=lambda r: r.budget)
        return runs

    def get_learning_curves(
        self,
        lc_extractor: Callable[[List[Run]], Any] = extract_HBS_learning_curves,
        config_ids: Optional[List[ConfigId]] = None,
    ) -> Dict[ConfigId, Any]:
        """``{config_id: lc_extractor(runs)}`` for every (or the given) configuration."""
        ids = self.data.keys() if config_ids is None else config_ids
        return {config_id: lc_extractor(self.get_runs_by_id(config_id)) for config_id in ids}

    def get_all_runs(self, only_largest_budget: bool = False) -> List[Run]:
        """Every run; with ``only_largest_budget``, each configuration's longest run only."""
        all_runs: List[Run] = []
        for config_id in self.data:
            runs = self.get_runs_by_id(config_id)
            if runs:
                if only_largest_budget:
                    all_runs.append(runs[-1])
                else:
                    all_runs.extend(runs)
        return all_runs

    def get_id2config_mapping(self) -> Dict[ConfigId, Dict[str, Any]]:
        """``{config_id: {'config': dict, 'config_info': ...}}`` (copies)."""
        return {
            config_id: {
                "config": copy.deepcopy(datum.config),
                "config_info": copy.deepcopy(datum.config_info),
            }
            for config_id, datum in self.data.items()
        }

    def num_iterations(self) -> int:
        return max(k[0] for k in self.data) + 1

    # ------------------------------------------------------------------ tables
    def get_pandas_dataframe(
        self, budgets: Optional[List[float]] = None, loss_fn: Callable[[Run], Any] = lambda r: r.loss
    ) -> Tuple[Any, Any]:
        """``(df_X, df_y)``: one row per successful run on ``budgets`` (default: all), the
        configuration (plus a ``budget`` column when there are several budgets) and its loss."""
        import pandas as pd

        id2conf = self.get_id2config_mapping()
        if budgets is None:
            budgets = self.HB_config["budgets"]
        configs, losses = [], []
        for r in self.get_all_runs():
            if r.loss is None or r.budget not in budgets:
                continue
            config = dict(id2conf[r.config_id]["config"])
            if len(budgets) > 1:
                config["budget"] = r.budget
            configs.append(config)
            losses.append({"loss": loss_fn(r)})
        return pd.DataFrame(configs), pd.DataFrame(losses)

    def get_fANOVA_data(
        self,
        config_space: Any,
        budgets: Optional[List[float]] = None,
        loss_fn: Callable[[Run], Any] = lambda r: r.loss,
        failed_loss: Optional[float] = None,
    ) -> Tuple[Any, Any, Any]:
        """``(X, y, space)`` for fANOVA: one row per run on ``budgets`` (categorical values as
        their index), with a log-scaled ``budget`` hyperparameter added to a copy of
        ``config_space`` when there are several budgets. Failed runs are left out, or count
        as ``failed_loss``."""
        import numpy as np
        from ConfigSpace import Configuration, ConfigurationSpace, UniformFloatHyperparameter
        from ConfigSpace.hyperparameters import CategoricalHyperparameter

        space = ConfigurationSpace.from_serialized_dict(config_space.to_serialized_dict())
        if budgets is None:
            budgets = self.HB_config["budgets"]
        if len(budgets) > 1:
            space.add(UniformFloatHyperparameter("budget", min(budgets), max(budgets), log=True))
        hps = list(space.values())
        id2conf = self.get_id2config_mapping()
        X, y = [], []
        for r in self.get_all_runs():
            if r.budget not in budgets:
                continue
            if r.loss is None:
                if failed_loss is None:
                    continue
                y.append(failed_loss)
            else:
                y.append(loss_fn(r))
            values = dict(id2conf[r.config_id]["config"])
            if len(budgets) > 1:
                values["budget"] = r.budget
            config = Configuration(space, values=values)
            X.append(
                [
                    hp.to_vector(config[hp.name])
                    if isinstance(hp, CategoricalHyperparameter)
                    else config[hp.name]
                    for hp in hps
                ]
            )
        return np.array(X, dtype=float), np.array(y), space

    def __repr__(self) -> str:
        n_runs = sum(len(d.results) for d in self.data.values())
        return f"Result({len(self.data)} configurations, {n_runs} runs, incumbent {self.get_incumbent_id()})"
