"""Checkpoints of a run whose target continues training: one directory per configuration, what
each trial may continue from, and the removal of what can no longer be used."""

from __future__ import annotations

import logging
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Set, Tuple, Union

from smacish._io import config_key
from smacish.trial import ConfigId, StatusType, TrialContext, TrialInfo, TrialValue

if TYPE_CHECKING:  # pragma: no cover
    from smacish.optimizer import Optimizer

logger = logging.getLogger("smacish")

KEEP = ("incumbent", "all", "promotable")


@dataclass(frozen=True)
class Checkpoints:
    """Where a target with a ``trial`` parameter keeps its checkpoints (``optimize(checkpoints=)``).

    Args:
        directory: the root; each configuration gets ``config_<i>_<j>_<k>`` below it. Default:
            ``output_dir/checkpoints`` (kept, and used again on resume), or, for a run without
            ``output_dir``, a temporary directory removed with the Optimizer.
        shared: whether every worker sees the same files under ``directory`` (a shared file
            system, or one machine). None: yes in-process and when every Dask worker runs on
            this machine, no otherwise. Not shared, a promoted trial goes to the worker that holds
            its checkpoint, and starts from scratch (``previous_budget=None``) elsewhere.
        keep: which directories stay once their configuration can never be promoted again:
            ``"incumbent"`` (the default: only the incumbent's), ``"promotable"`` (none), ``"all"``.

    >>> Checkpoints(keep="all").keep
    'all'
    """

    directory: Optional[Union[str, Path]] = None
    shared: Optional[bool] = None
    keep: str = "incumbent"

    def __post_init__(self) -> None:
        if self.keep not in KEEP:
            raise ValueError(f"Checkpoints(keep={self.keep!r}): choose one of {', '.join(map(repr, KEEP))}")
        if self.shared is not None and not isinstance(self.shared, bool):
            raise TypeError(f"Checkpoints(shared={self.shared!r}): True, False or None (decide by the workers)")


def full_budget(info: TrialInfo) -> float:
    """What a trial costs when it trains from scratch: its budget (1 without one)."""
    return 1.0 if info.budget is None else info.budget


def directory_name(config_id: ConfigId) -> str:
    """``config_<i>_<j>_<k>``, as the HpBandSter layer names a configuration's directory."""
    return "config_%d_%d_%d" % tuple(config_id)


class CheckpointStore:
    """The checkpoints of one ``optimize`` call: makes each trial's :class:`TrialContext` and,
    after each tell, removes the directories of configurations that can no longer be promoted.

    Only the driver touches it. With local (not shared) checkpoints the directories live on the
    workers; removing them is the runner's ``remove`` (the Dask runner runs it on the holder).
    """

    def __init__(self, optimizer: "Optimizer", settings: Checkpoints, shared: bool):
        self.optimizer = optimizer
        self.settings = settings
        self.shared = shared
        if settings.directory is not None:
            self.root = Path(settings.directory)
        elif optimizer.output_dir is not None:
            self.root = optimizer.output_dir / "checkpoints"
        else:
            self.root = _temporary_root(optimizer)
        self.root.mkdir(parents=True, exist_ok=True)
        # config_id -> (largest budget finished with SUCCESS, the worker that ran it)
        self._finished: Dict[ConfigId, Tuple[float, Optional[str]]] = {}
        # configurations whose directory may exist, by iteration (so a tell looks at its own run only)
        self._held: Dict[int, Dict[ConfigId, bytes]] = {}
        self._ids_of: Dict[bytes, Set[ConfigId]] = {}  # configuration -> its config_ids
        self._incumbents: Set[bytes] = set()  # the incumbents at the last clean
        self.remove: Callable[[List[Path], Optional[str]], None] = _remove_here
        for info, value in optimizer.runhistory.items():  # a resumed run continues from its trials
            self.record(info, value)
        if self._held and settings.keep != "all":
            self.clean()  # what a resumed run (or an earlier call) can no longer use

    # ------------------------------------------------------------------ trials
    def context_for(self, info: TrialInfo) -> TrialContext:
        """The context of ``info``: its directory and the budget it may continue from."""
        previous, holder = None, None
        if info.config_id is not None and info.budget is not None:
            done = self._finished.get(info.config_id)
            if done is not None and done[0] < info.budget:
                previous, holder = done
        path = self.root / (directory_name(info.config_id) if info.config_id is not None else "unnamed")
        return TrialContext(info.config_id, info.budget, path, previous, None if self.shared else holder)

    def prepared(self, info: TrialInfo) -> TrialContext:
        """The context of a trial that runs in this process (its directory made ready)."""
        context = self.context_for(info)
        context.prepare()
        return context

    def expected_charge(self, info: TrialInfo) -> float:
        """The budget ``info`` will likely be charged (its increment when it can continue)."""
        done = self._finished.get(info.config_id) if info.config_id is not None and info.budget is not None else None
        return info.budget - done[0] if done is not None and done[0] < info.budget else full_budget(info)

    def record(self, info: TrialInfo, value: TrialValue) -> None:
        if info.config_id is None or info.budget is None:
            return
        key = config_key(info.config)
        self._held.setdefault(info.config_id[0], {})[info.config_id] = key
        self._ids_of.setdefault(key, set()).add(info.config_id)
        if value.status is StatusType.SUCCESS:
            done = self._finished.get(info.config_id)
            if done is None or info.budget > done[0]:
                self._finished[info.config_id] = (info.budget, value.additional_info.get("worker"))

    def told(self, info: TrialInfo, value: TrialValue) -> None:
        """After each tell (an Optimizer callback): note the trial, remove what is dead."""
        self.record(info, value)
        if self.settings.keep == "all" or info.config_id is None or info.budget is None:
            return
        # Only the told trial's run can have retired configurations: its whole stage when the
        # stage ended; in asynchronous mode (a rung never ends) only the told configuration.
        if self.optimizer.intensifier.asynchronous:
            candidates = {info.config_id}
        else:
            candidates = set(self._held.get(info.config_id[0], ()))
        self.clean(candidates)

    # ------------------------------------------------------------------ removal
    def clean(self, candidates: Optional[Set[ConfigId]] = None) -> None:
        """Remove the directories of configurations (of ``candidates``; None: all held) that
        can never run again, but the incumbent's with ``keep="incumbent"`` (with several
        objectives, those of the Pareto front), and the last incumbent's once it is not."""
        incumbents = self.optimizer.incumbents if self.settings.keep == "incumbent" else []
        keys = {config_key(inc.config) for inc in incumbents}
        if candidates is None:
            candidates = {cid for held in self._held.values() for cid in held}
        else:
            for key in self._incumbents - keys:
                candidates |= self._ids_of.get(key, set())
        self._incumbents = keys
        keep = {cid for key in keys for cid in self._ids_of.get(key, ())}
        live = self.optimizer.intensifier.live_config_ids(among=candidates)
        by_holder: Dict[Optional[str], List[Path]] = {}
        for cid in candidates - live - keep:
            held = self._held.get(cid[0], {})
            if held.pop(cid, None) is None:
                continue
            holder = None if self.shared else self._finished.get(cid, (None, None))[1]
            by_holder.setdefault(holder, []).append(self.root / directory_name(cid))
        for holder, paths in by_holder.items():
            try:
                self.remove(paths, holder)
            except Exception as exc:  # noqa: BLE001 - a leftover directory is no reason to stop a run
                logger.warning("could not remove %d checkpoint directories: %r", len(paths), exc)


_TEMPORARY: "weakref.WeakKeyDictionary[Any, Path]" = weakref.WeakKeyDictionary()


def _temporary_root(optimizer: "Optimizer") -> Path:
    """The checkpoint root of a run without ``output_dir``: one per Optimizer, so that a second
    ``optimize`` call continues from the first's checkpoints; removed with the Optimizer."""
    root = _TEMPORARY.get(optimizer)
    if root is None:
        root = _TEMPORARY[optimizer] = Path(tempfile.mkdtemp(prefix="smacish-checkpoints-"))
        weakref.finalize(optimizer, shutil.rmtree, str(root), True)
    return root


def _remove_here(paths: List[Path], holder: Optional[str] = None) -> None:
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


def make_store(optimizer: "Optimizer", settings: Optional[Checkpoints], client: Any = None,
               in_process: bool = True) -> CheckpointStore:
    """The store for one ``optimize`` call; ``shared`` decided from the workers when not given."""
    settings = settings if settings is not None else Checkpoints()
    if not isinstance(settings, Checkpoints):
        raise TypeError(f"checkpoints must be a smacish.Checkpoints, got {type(settings).__name__}")
    shared = settings.shared
    if shared is None:
        shared = in_process or client is None or _workers_on_this_machine(client)
    return CheckpointStore(optimizer, settings, shared)


def _workers_on_this_machine(client: Any) -> bool:
    import socket

    here = {"127.0.0.1", "localhost", "::1", socket.gethostname()}
    try:
        here.update(socket.gethostbyname_ex(socket.gethostname())[2])
    except OSError:
        pass
    try:
        workers = client.scheduler_info()["workers"]
    except Exception:  # noqa: BLE001 - cannot tell: assume separate disks, the safe side
        return False
    hosts = {addr.split("://")[-1].rsplit(":", 1)[0].strip("[]") for addr in workers}
    return bool(hosts) and hosts <= here
