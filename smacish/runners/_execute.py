"""Calling a user's target for one trial and turning whatever happens into a TrialValue.

Used by every runner (in-process and on Dask workers). With a cutoff or a memory limit the
target runs in a child process that can be killed; a Python thread cannot be.
"""

from __future__ import annotations

import inspect
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import warnings
import weakref
from functools import lru_cache
from typing import Any, Callable, Dict, FrozenSet, Optional, Sequence, Tuple, Union

import numpy as np

from smacish.trial import StatusType, TrialContext, TrialInfo, TrialValue, check_continued

TARGET_ARGUMENTS = ("budget", "seed", "instance")
CONTEXT_ARGUMENT = "trial"  # passed only to a target that names it (never through **kwargs)


class BoundTarget:
    """The user's target with the names its parameters go by, e.g. ``{"budget": "epochs"}``,
    and, in a run with several objectives, their names (the target's dict holds a cost under
    each, see :func:`parse_result`).

    Made by :func:`check_target` when ``budget_arg`` names the budget's parameter or the run
    has several objectives; picklable (when the target is), so Dask ships it like the target.
    """

    def __init__(self, fn: Callable[..., Any], names: Dict[str, str], objectives: Optional[Sequence[str]] = None):
        self.fn = fn
        self.names = dict(names)  # our argument name -> the target's parameter name
        self.objectives = list(objectives) if objectives else None

    def __call__(self, config: Any, **kwargs: Any) -> Any:
        return self.fn(config, **{self.names[k]: v for k, v in kwargs.items() if k in self.names})

    def __repr__(self) -> str:
        objectives = f", objectives={self.objectives}" if self.objectives else ""
        return f"BoundTarget({_name(self.fn)}, {self.names}{objectives})"


def _name(target: Callable) -> str:
    return getattr(target, "__qualname__", None) or type(target).__name__


def _parameters(target: Callable) -> Optional[list]:
    try:
        return list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature
        return None


@lru_cache(maxsize=64)
def _accepted(target: Callable) -> FrozenSet[str]:
    if isinstance(target, BoundTarget):
        return frozenset(target.names)
    params = _parameters(target)
    if params is None:
        return frozenset()
    named = frozenset(p.name for p in params[1:] if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
    context = named & {CONTEXT_ARGUMENT}
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return frozenset(TARGET_ARGUMENTS) | context
    return (named & frozenset(TARGET_ARGUMENTS)) | context


def _accepted_by(target: Callable) -> FrozenSet[str]:
    try:
        return _accepted(target)
    except TypeError:  # unhashable callable
        return _accepted.__wrapped__(target)


def wants_context(target: Callable) -> bool:
    """True if ``target`` has a ``trial`` parameter (it gets a :class:`~smacish.trial.TrialContext`)."""
    return CONTEXT_ARGUMENT in _accepted_by(target)


def target_kwargs(target: Callable, info: TrialInfo, context: Optional[TrialContext] = None) -> Dict[str, Any]:
    """The keyword arguments among ``budget``, ``seed``, ``instance`` (and ``trial``) the target
    accepts."""
    accepted = _accepted_by(target)
    kwargs = {name: getattr(info, name) for name in accepted if name != CONTEXT_ARGUMENT}
    if CONTEXT_ARGUMENT in accepted:  # the runners pass a context; a bare call gets a fresh one
        kwargs[CONTEXT_ARGUMENT] = context if context is not None else TrialContext(
            info.config_id, info.budget, tempfile.mkdtemp(prefix="smacish-checkpoint-"))
    return kwargs


def check_target(target: Callable, budget_arg: Optional[str] = None,
                 needs: Sequence[str] = (), objectives: Optional[Sequence[str]] = None) -> Callable:
    """``target`` as the runners call it, checked before the first trial.

    The configuration goes to the first parameter; ``budget``, ``seed`` and ``instance`` go by
    name to the parameters of those names (or to ``**kwargs``), the budget to ``budget_arg``
    when given; a parameter named ``trial`` gets a :class:`~smacish.trial.TrialContext`. With
    several ``objectives`` the target's dict of costs is read by their names. A
    required parameter that nothing fills is a ``TypeError`` naming the function;
    a target that cannot receive an argument in ``needs`` (one that varies in this run) gets a
    warning, since every trial would then run it the same way.

    >>> check_target(lambda config, epochs: 0.0, budget_arg="epochs")
    BoundTarget(<lambda>, {'budget': 'epochs'})
    """
    if not callable(target):
        raise TypeError(f"target must be callable, got {type(target).__name__}")
    params = _parameters(target)
    if params is None:  # nothing to check: call it and see
        return BoundTarget(target, {}, objectives) if objectives else target
    name = _name(target)
    shown = f"{name}{inspect.signature(target)}"
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not positional and not any(p.kind is p.VAR_POSITIONAL for p in params):
        raise TypeError(f"target {shown} takes no positional parameter for the configuration; "
                        "define it as def target(config, budget): ...")
    rest = params[1:] if positional and params[0] is positional[0] else params
    by_name = {p.name: p for p in rest if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
    if budget_arg is not None:
        if not isinstance(budget_arg, str) or not (budget_arg in by_name or var_kw):
            raise TypeError(f"budget_arg is {budget_arg!r}, but target {shown} has no parameter of that name; "
                            f"choose one of {sorted(by_name)}")
        names = {"budget": budget_arg}
        names.update({a: a for a in ("seed", "instance") if a in by_name or var_kw})
        names.update({a: a for a in (CONTEXT_ARGUMENT,) if a in by_name})
        filled = set(names.values())
    else:
        names = None
        filled = set(TARGET_ARGUMENTS) & (set(by_name) | (set(TARGET_ARGUMENTS) if var_kw else set()))
        filled |= {CONTEXT_ARGUMENT} & set(by_name)
    missing = [p.name for p in rest if p.default is p.empty and p.kind in
               (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in filled]
    if missing:
        hint = (f"; if {missing[0]!r} is the budget, pass budget_arg={missing[0]!r}"
                if budget_arg is None and "budget" not in filled else "")
        raise TypeError(
            f"target {shown} has required parameter(s) {missing} that smacish cannot fill: it passes "
            "the configuration first, then budget=, seed= and instance= by name to parameters of those "
            f"names{hint}, or give the others default values"
        )
    receives = set(names) if names is not None else filled
    for arg in needs:
        if arg not in receives:
            warnings.warn(
                f"target {shown} takes no {arg!r} parameter, but the {arg} varies in this run: every "
                f"trial runs it the same way, whatever its {arg}. Add a {arg!r} parameter"
                + (" (or pass budget_arg= naming the budget's parameter)" if arg == "budget" else ""),
                UserWarning, stacklevel=3,  # at the user's optimize() call
            )
    if objectives and names is None:
        names = {a: a for a in filled}
    return BoundTarget(target, names, objectives) if names is not None else target


def parse_result(result: Any, source: str = "the target returned",
                 objectives: Optional[Sequence[str]] = None) -> Tuple[Union[float, Tuple[float, ...]], Dict[str, Any]]:
    """A float cost, or a dict with ``cost`` (or HpBandSter's ``loss``) and other keys as info.

    The one rule for what a target returns and what :meth:`Optimizer.tell` takes: a real number
    (numpy scalars too) or such a dict. With several ``objectives``: a dict with a cost under
    each objective's name (or ``cost``: a sequence, one per objective), or such a sequence; the
    cost is then a tuple in the objectives' order. Raises ``ValueError`` for anything else
    (strings, bools, NaN, infinity, a missing objective, a sequence of the wrong length).

    >>> parse_result({"cost": 0.5, "epochs": 3})
    (0.5, {'epochs': 3})
    >>> parse_result({"error": 0.1, "latency": 20, "epochs": 3}, objectives=["error", "latency"])
    ((0.1, 20.0), {'epochs': 3})
    """
    info: Dict[str, Any] = {}
    several = objectives is not None and len(objectives) > 1
    if isinstance(result, dict):
        if several and all(name in result for name in objectives):
            info = {k: v for k, v in result.items() if k not in objectives}
            result = [result[name] for name in objectives]
        elif "cost" in result or "loss" in result:
            info = {k: v for k, v in result.items() if k not in ("cost", "loss")}
            result = result["cost"] if "cost" in result else result["loss"]
        elif several:
            missing = [name for name in objectives if name not in result]
            raise ValueError(f"{source} a dict without the objective(s) {missing}: keys {sorted(result)}; "
                             f"return one cost under each of {list(objectives)}")
        else:
            raise ValueError(f"{source} a dict without 'cost' or 'loss': keys {sorted(result)}")
    if isinstance(result, (tuple, list, np.ndarray)):
        cost: Union[float, Tuple[float, ...]] = tuple(_one_cost(c, source) for c in result)
        if objectives is not None and len(cost) != len(objectives):
            raise ValueError(f"{source} {len(cost)} cost(s) {cost}, but the run has {len(objectives)} "
                             f"objective(s) {list(objectives)}")
        if objectives is None:
            raise ValueError(f"{source} a sequence {result!r} as the cost, but the run has one objective: "
                             "return a number, or pass objectives=[...] to the Optimizer")
        return cost, info
    if several:
        raise ValueError(f"{source} {type(result).__name__} {result!r}, but the run has objectives "
                         f"{list(objectives)}: return a dict with a cost under each name")
    return _one_cost(result, source), info


def _one_cost(value: Any, source: str) -> float:
    try:
        if isinstance(value, (bool, str, bytes)):  # float("0.5") works, but a string here is a bug
            raise TypeError(value)
        cost = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{source} {type(value).__name__} {value!r}; it must return a number "
            "or a dict with 'cost'"
        ) from None
    if math.isnan(cost):
        raise ValueError(f"{source} NaN as the cost")
    if not math.isfinite(cost):
        raise ValueError(f"{source} {cost} as the cost")
    return cost


def failed_value(message: str, status: StatusType = StatusType.CRASHED, lost: bool = False,
                 **known: Any) -> TrialValue:
    """The value of a trial that did not run to its end: cost inf, ``message`` as its error,
    ``lost`` when its process or worker died (a runner may retry it)."""
    extra: Dict[str, Any] = {"error": message, **known}
    if lost:
        extra["lost"] = True
    now = time.time()
    return TrialValue(cost=math.inf, status=status, starttime=now, endtime=now, additional_info=extra)


def error_info(exc: BaseException) -> Dict[str, Any]:
    """What a failed trial's ``additional_info`` holds about its exception: ``error`` (one line),
    ``traceback`` (the whole of it) and ``exception_types`` (the qualified names of the
    exception's classes, most derived first, so that ``catch=`` can match them where the
    exception object itself is gone, e.g. after a Dask worker)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next  # start at the target's own frame, not at the call here
    return {
        "error": f"{type(exc).__name__}: {exc}",
        "traceback": "".join(traceback.format_exception(type(exc), exc, tb)),
        "exception_types": [f"{c.__module__}.{c.__qualname__}" for c in type(exc).__mro__],
    }


_last = threading.local()  # the exception of the last failed in-process trial, per thread


def last_error(value: TrialValue) -> Optional[BaseException]:
    """The exception object behind ``value``, if its trial failed in this thread just now."""
    pair = getattr(_last, "error", None)
    return pair[1] if pair is not None and pair[0] is value else None


def call_target(target: Callable, info: TrialInfo, context: Optional[TrialContext] = None) -> TrialValue:
    """Run the target in this process; exceptions and bad results become CRASHED. What the
    target reported through ``context`` (``trial``) goes into the value's ``additional_info``."""
    kwargs = target_kwargs(target, info, context)
    context = kwargs.get(CONTEXT_ARGUMENT)
    start = time.time()
    t0 = time.perf_counter()
    error: Optional[BaseException] = None
    try:
        cost, extra = parse_result(target(info.config, **kwargs), objectives=getattr(target, "objectives", None))
        if context is not None:
            extra = {**context.result_info(), **extra}
        problem = check_continued(info, extra)
        if problem:
            raise ValueError(f"the target returned {problem}")
        status = StatusType.SUCCESS
    except MemoryError as exc:
        cost, status, error = math.inf, StatusType.MEMORYOUT, exc
    except Exception as exc:  # noqa: BLE001 - the target's failure is data, not our error
        cost, status, error = math.inf, StatusType.CRASHED, exc
    elapsed = time.perf_counter() - t0
    if error is not None:
        extra = error_info(error)
        if context is not None and context.reports:  # the learning curve up to the failure
            extra["reports"] = context.reports
    value = TrialValue(cost=cost, time=elapsed, status=status, starttime=start,
                       endtime=start + elapsed, additional_info=extra)
    _last.error = (value, error) if error is not None else None
    return value


def execute_trial(
    target: Callable, info: TrialInfo, memory_limit: Optional[float] = None,
    should_stop: Optional[Callable[[], bool]] = None, context: Optional[TrialContext] = None,
) -> TrialValue:
    """Run one trial: in-process when it has no cutoff and no ``memory_limit`` (MB), else in a
    child process that is killed past its cutoff (TIMEOUT) or memory (MEMORYOUT), or as soon as
    ``should_stop()`` says so (ABORTED; polled every 10 ms, only with a child process).

    The child is forked from a fork server that has smacish imported (see ``_child``); it sees
    the caller's ``sys.path``, working directory and environment. The cutoff counts from the
    call of the target, after the child has loaded it (imported its module); the memory limit
    is on the resident memory of the child and everything it starts, which includes about
    100 MB of interpreter, numpy and ConfigSpace.

    A child that dies on its own (segfault, ``os._exit``) gives CRASHED with
    ``additional_info["lost"] = True``, so that a runner may retry it elsewhere.
    """
    if info.cutoff is None and memory_limit is None:
        return call_target(target, info, context)
    return _run_in_child(target, info, memory_limit, should_stop, context)


_POLL = 0.01  # seconds between looks at a running child
_LOAD_TIMEOUT = 120.0  # seconds a child may take to load its target (its imports) before the call


class _ForkServer:
    """``python -m smacish.runners._child --serve``: has imported smacish once and forks a child
    per trial, so a trial starts in milliseconds instead of the ~2 s it takes a fresh
    interpreter to import ConfigSpace. One per thread that runs trials; ends with its parent."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "smacish.runners._child", "--serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, close_fds=True,
        )
        self._buffer = b""
        try:
            line = self._readline(timeout=None)
        except BaseException:
            self.close()
            raise
        if line != "ready":
            self.close()
            raise RuntimeError(f"the trial fork server did not start (it said {line!r})")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _readline(self, timeout: Optional[float]) -> Optional[str]:
        """The next line; None if none came within ``timeout``; "" when the server is gone."""
        import select

        fd = self.proc.stdout.fileno()
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                return ""
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def fork(self, payload: str, result: str) -> Optional[int]:
        """Start a child on ``payload``; its pid, or None if the server is gone."""
        import json

        try:
            self.proc.stdin.write((json.dumps({"payload": payload, "result": result}) + "\n").encode())
        except OSError:
            return None
        line = self._readline(timeout=None)
        return int(line.split()[1]) if line and line.startswith("pid ") else None

    def exit_code(self, timeout: float) -> Optional[int]:
        """The child's exit code once it ended; None while it runs. Raises ``EOFError`` if the
        server died meanwhile."""
        line = self._readline(timeout)
        if line == "":
            raise EOFError("the trial fork server died")
        return None if line is None else int(line.split()[1])

    def close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_servers = threading.local()


def _fork_server() -> _ForkServer:
    server = getattr(_servers, "server", None)
    if server is None or not server.alive():
        if server is not None:
            server.close()
        server = _servers.server = _ForkServer()
        weakref.finalize(threading.current_thread(), server.close)
    return server


class _Child:
    """One running trial process: forked by this thread's fork server where ``os.fork`` exists,
    else a fresh interpreter."""

    def __init__(self, payload: str, result: str):
        self.server: Optional[_ForkServer] = None
        self.proc: Optional["subprocess.Popen[bytes]"] = None
        self.code: Optional[int] = None
        self.lost_server = False
        if hasattr(os, "fork"):
            for _ in range(2):  # a server that died since the last trial is replaced once
                server = _fork_server()
                pid = server.fork(payload, result)
                if pid is not None:
                    self.server, self.pid = server, pid
                    return
                server.close()
            raise RuntimeError("the trial fork server died before it could start the trial")
        self.proc = subprocess.Popen([sys.executable, "-m", "smacish.runners._child", payload, result],
                                     start_new_session=True)  # its own process group, killed as one
        self.pid = self.proc.pid

    def wait(self, timeout: float) -> bool:
        """True once the child has ended (its exit code in ``self.code``)."""
        if self.code is not None:
            return True
        if self.server is None:
            try:
                self.code = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        try:
            self.code = self.server.exit_code(timeout)
        except EOFError:  # the server died (killed from outside): the child is lost with it
            self.lost_server = True
            self._kill_group()
            self.code = -9
        return self.code is not None

    def _kill_group(self) -> None:
        import psutil

        try:
            for child in psutil.Process(self.pid).children(recursive=True):
                child.kill()
        except psutil.Error:
            pass
        for kill in (lambda: os.killpg(self.pid, signal.SIGKILL), lambda: os.kill(self.pid, signal.SIGKILL)):
            try:
                kill()
            except OSError:
                pass

    def kill(self) -> None:
        """Kill the child and whatever it started, and wait for it."""
        self._kill_group()
        if not self.wait(timeout=10):  # pragma: no cover - SIGKILL is not ignored
            raise RuntimeError(f"trial process {self.pid} survived SIGKILL")


def _run_in_child(
    target: Callable, info: TrialInfo, memory_limit: Optional[float],
    should_stop: Optional[Callable[[], bool]] = None, context: Optional[TrialContext] = None,
) -> TrialValue:
    import pickle

    import cloudpickle  # a dependency of dask
    import psutil  # a dependency of distributed

    with tempfile.TemporaryDirectory(prefix="smacish-trial-") as tmp:
        payload, result_path = os.path.join(tmp, "in.pkl"), os.path.join(tmp, "out.pkl")
        with open(payload, "wb") as fh:
            pickle.dump({"sys_path": list(sys.path), "cwd": os.getcwd(), "env": dict(os.environ)}, fh)
            cloudpickle.dump((target, info, context), fh)
        started_marker = result_path + ".started"
        child = _Child(payload, result_path)
        start = time.time()
        t0 = time.perf_counter()
        called: Optional[float] = None  # when the target was called: the cutoff counts from there
        stopped: Optional[StatusType] = None
        peak_mb = 0.0
        try:
            ps = psutil.Process(child.pid)
            while not child.wait(_POLL):
                now = time.perf_counter()
                if called is None and os.path.exists(started_marker):
                    called = now
                if called is None and now - t0 > _LOAD_TIMEOUT:
                    stopped = StatusType.CRASHED
                    break
                if called is not None and info.cutoff is not None and now - called > info.cutoff:
                    stopped = StatusType.TIMEOUT
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
                        stopped = StatusType.MEMORYOUT
                        break
                if should_stop is not None and should_stop():
                    stopped = StatusType.ABORTED
                    break
        except psutil.Error:  # the child ended before we looked at it
            child.wait(timeout=10)
        finally:
            if child.code is None:
                child.kill()
        elapsed = time.perf_counter() - t0
        offset = 0.0 if called is None else called - t0  # the target's own time, without loading
        times = dict(time=elapsed - offset, starttime=start + offset, endtime=start + elapsed)
        if stopped is StatusType.TIMEOUT:
            return TrialValue(cost=math.inf, status=stopped, **times,
                              additional_info={"error": f"stopped after its cutoff of {info.cutoff:g} s"})
        if stopped is StatusType.MEMORYOUT:
            return TrialValue(cost=math.inf, status=stopped, **times, additional_info={
                "error": f"stopped at {peak_mb:.0f} MB, past its memory limit of {memory_limit:g} MB"})
        if stopped is StatusType.CRASHED:
            return TrialValue(cost=math.inf, status=stopped, **times, additional_info={
                "error": f"the trial's process did not load the target within {_LOAD_TIMEOUT:g} s"})
        if stopped is StatusType.ABORTED:
            return TrialValue(cost=math.inf, status=stopped, **times,
                              additional_info={"error": "cancelled while it ran"})
        if os.path.exists(result_path) and not child.lost_server:
            with open(result_path, "rb") as fh:
                return pickle.load(fh)  # written by our own child process, never by a user
        code = child.code
        if child.lost_server:
            reason = "was killed with the fork server that started it"
        elif code is not None and code < 0:
            reason = f"was killed by signal {-code}"
        else:
            reason = f"exited with code {code}"
        return TrialValue(
            cost=math.inf, status=StatusType.CRASHED, **times,
            additional_info={"error": f"the trial's process {reason} before returning", "lost": True},
        )
