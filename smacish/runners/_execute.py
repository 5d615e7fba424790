"""Calling a user's target for one trial and turning whatever happens into a TrialValue.

Used by every runner (in-process and on Dask workers). With a cutoff or a memory limit the
target runs in a child process that can be killed; a Python thread cannot be.
"""

from __future__ import annotations

import inspect
import math
import os
import subprocess
import sys
import tempfile
import time
import traceback
from functools import lru_cache
from typing import Any, Callable, Dict, FrozenSet, Optional, Tuple

from smacish.trial import StatusType, TrialInfo, TrialValue

TARGET_ARGUMENTS = ("budget", "seed", "instance")


@lru_cache(maxsize=64)
def _accepted(target: Callable) -> FrozenSet[str]:
    try:
        params = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature
        return frozenset()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return frozenset(TARGET_ARGUMENTS)
    return frozenset(p.name for p in params if p.name in TARGET_ARGUMENTS)


def target_kwargs(target: Callable, info: TrialInfo) -> Dict[str, Any]:
    """The keyword arguments among ``budget``, ``seed``, ``instance`` the target accepts."""
    try:
        names = _accepted(target)
    except TypeError:  # unhashable callable
        names = _accepted.__wrapped__(target)
    return {name: getattr(info, name) for name in names}


def parse_result(result: Any) -> Tuple[float, Dict[str, Any]]:
    """A float cost, or a dict with ``cost`` (or HpBandSter's ``loss``) and other keys as info.

    Raises ``ValueError`` for anything else, NaN included.
    """
    info: Dict[str, Any] = {}
    if isinstance(result, dict):
        info = {k: v for k, v in result.items() if k not in ("cost", "loss")}
        if "cost" in result:
            result = result["cost"]
        elif "loss" in result:
            result = result["loss"]
        else:
            raise ValueError(f"the target returned a dict without 'cost' or 'loss': keys {sorted(result)}")
    if isinstance(result, bool):
        raise ValueError(f"the target returned {result!r}; it must return a number")
    try:
        cost = float(result)
    except (TypeError, ValueError):
        raise ValueError(
            f"the target returned {type(result).__name__} {result!r}; it must return a number "
            "or a dict with 'cost'"
        ) from None
    if math.isnan(cost):
        raise ValueError("the target returned NaN as its cost")
    if not math.isfinite(cost):
        raise ValueError(f"the target returned {cost} as its cost")
    return cost, info


def call_target(target: Callable, info: TrialInfo) -> TrialValue:
    """Run the target in this process; exceptions and bad results become CRASHED."""
    kwargs = target_kwargs(target, info)
    start = time.time()
    t0 = time.perf_counter()
    try:
        cost, extra = parse_result(target(info.config, **kwargs))
        status, message = StatusType.SUCCESS, None
    except MemoryError:
        cost, extra, status = math.inf, {}, StatusType.MEMORYOUT
        message = traceback.format_exc()
    except Exception:  # noqa: BLE001 - the target's failure is data, not our error
        cost, extra, status = math.inf, {}, StatusType.CRASHED
        message = traceback.format_exc()
    elapsed = time.perf_counter() - t0
    if message is not None:
        extra = {"traceback": message}
    return TrialValue(cost=cost, time=elapsed, status=status, starttime=start,
                      endtime=start + elapsed, additional_info=extra)


def execute_trial(target: Callable, info: TrialInfo, memory_limit: Optional[float] = None) -> TrialValue:
    """Run one trial: in-process when it has no cutoff and no ``memory_limit`` (MB), else in a
    child process that is killed past its cutoff (TIMEOUT) or memory (MEMORYOUT).

    A child that dies on its own (segfault, ``os._exit``) gives CRASHED with
    ``additional_info["lost"] = True``, so that a runner may retry it elsewhere.
    """
    if info.cutoff is None and memory_limit is None:
        return call_target(target, info)
    return _run_in_child(target, info, memory_limit)


def _run_in_child(target: Callable, info: TrialInfo, memory_limit: Optional[float]) -> TrialValue:
    import cloudpickle  # a dependency of dask
    import psutil  # a dependency of distributed

    with tempfile.TemporaryDirectory(prefix="smacish-trial-") as tmp:
        payload, result_path = os.path.join(tmp, "in.pkl"), os.path.join(tmp, "out.pkl")
        with open(payload, "wb") as fh:
            cloudpickle.dump((target, info), fh)
        start = time.time()
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "smacish.runners._child", payload, result_path])
        killed: Optional[StatusType] = None
        peak_mb = 0.0
        try:
            ps = psutil.Process(proc.pid)
            while proc.poll() is None:
                if info.cutoff is not None and time.perf_counter() - t0 > info.cutoff:
                    killed = StatusType.TIMEOUT
                    break
                if memory_limit is not None:
                    try:
                        rss = ps.memory_info().rss + sum(
                            c.memory_info().rss for c in ps.children(recursive=True)
                        )
                    except psutil.Error:
                        rss = 0
                    peak_mb = max(peak_mb, rss / 2**20)
                    if peak_mb > memory_limit:
                        killed = StatusType.MEMORYOUT
                        break
                time.sleep(0.01)
        finally:
            if proc.poll() is None:
                _kill_tree(proc)
        elapsed = time.perf_counter() - t0
        if killed is StatusType.TIMEOUT:
            return TrialValue(
                cost=math.inf, time=elapsed, status=killed, starttime=start, endtime=start + elapsed,
                additional_info={"error": f"stopped after its cutoff of {info.cutoff:g} s"},
            )
        if killed is StatusType.MEMORYOUT:
            return TrialValue(
                cost=math.inf, time=elapsed, status=killed, starttime=start, endtime=start + elapsed,
                additional_info={"error": f"stopped at {peak_mb:.0f} MB, past its memory limit "
                                          f"of {memory_limit:g} MB"},
            )
        if os.path.exists(result_path):
            import pickle

            with open(result_path, "rb") as fh:
                return pickle.load(fh)  # written by our own child process, never by a user
        code = proc.returncode
        reason = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
        return TrialValue(
            cost=math.inf, time=elapsed, status=StatusType.CRASHED, starttime=start,
            endtime=start + elapsed,
            additional_info={"error": f"the trial's process {reason} before returning", "lost": True},
        )


def _kill_tree(proc: "subprocess.Popen[bytes]") -> None:
    import psutil

    try:
        for child in psutil.Process(proc.pid).children(recursive=True):
            child.kill()
    except psutil.Error:
        pass
    proc.kill()
    proc.wait()
