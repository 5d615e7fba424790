"""Small helpers for files and JSON: atomic writes, numpy-free values, configurations."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple, Union

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace
from ConfigSpace.configuration import ROUND_PLACES
from ConfigSpace.hyperparameters import FloatHyperparameter, IntegerHyperparameter

PathLike = Union[str, "os.PathLike[str]"]


def atomic_write_text(path: PathLike, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half.

    The text goes to a temporary file in the same directory, is flushed to disk, and then
    renamed over ``path`` (``os.replace`` is atomic on POSIX and Windows).
    """
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, as :func:`atomic_write_text` does."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):  # mkstemp makes it 0600: give it what open() would
            os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _umask() -> int:
    """The process's umask. POSIX can only read it by setting it: set and restore at once (a
    file another thread creates in between gets 022, the usual umask, at worst)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def to_builtin(value: Any) -> Any:
    """Turn numpy scalars and arrays (also nested in dicts, lists, tuples) into Python builtins."""
    if isinstance(value, dict):
        return {str(k): to_builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_builtin(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_builtin(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def dumps(obj: Any) -> str:
    """JSON text of ``obj`` with numpy values converted; inf is written as ``Infinity``."""
    return _ENCODER.encode(obj)


def _default(value: Any) -> Any:
    if isinstance(value, (np.generic, np.ndarray)):
        return to_builtin(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(
        f"{type(value).__name__} is not JSON-serialisable; keep additional_info to numbers, "
        "strings, lists and dicts"
    )


_ENCODER = json.JSONEncoder(default=_default)  # one for all: json.dumps(default=...) makes one per call


def config_key(config: Configuration) -> bytes:
    """A cheap, exact identity of a configuration: the bytes of its vector (NaN normalised).

    Cached on the configuration (configurations are not changed once made)."""
    key = getattr(config, "_smacish_key", None)
    if key is None:
        vector = config.get_array()
        if np.isnan(vector).any():
            vector = np.where(np.isnan(vector), -1.0, vector)
        key = vector.tobytes()
        try:
            config._smacish_key = key
        except AttributeError:  # pragma: no cover - a configuration type without __dict__
            pass
    return key


def vector_json(array: np.ndarray) -> list:
    """A configuration vector (1-d) or a stack of them (2-d) as lists of floats, NaN (an
    inactive hyperparameter) as None."""
    rows = array.tolist()
    if array.ndim == 1:  # short: cheaper in Python than through numpy
        return [None if v != v else v for v in rows]
    for i in np.flatnonzero(np.isnan(array).any(axis=1)):
        rows[i] = [None if v != v else v for v in rows[i]]
    return rows


def config_to_json(config: Configuration) -> dict:
    """Values for people, the vector for an exact round trip."""
    return {"values": to_builtin(dict(config)), "vector": vector_json(config.get_array())}


def configs_to_json(space: ConfigurationSpace, configs: Sequence[Configuration]) -> List[dict]:
    """:func:`config_to_json` of many configurations of ``space`` at once: the values are
    converted one hyperparameter at a time over every configuration, as ConfigSpace would."""
    if not configs:
        return []
    array = np.array([c.get_array() for c in configs])
    values: List[dict] = [{} for _ in configs]
    for j, (name, hp) in enumerate(space.items()):
        column = array[:, j]
        active = np.flatnonzero(~np.isnan(column)).tolist()
        if isinstance(hp, (FloatHyperparameter, IntegerHyperparameter)):
            converted = hp.to_value(column[active])
            if isinstance(hp, FloatHyperparameter):  # as Configuration.__getitem__ does
                converted = np.round(converted, ROUND_PLACES)
            converted = to_builtin(converted)
        else:  # choices may mix types, which an array would not keep
            converted = [to_builtin(configs[i][name]) for i in active]
        for i, value in zip(active, converted):
            values[i][name] = value
    return [{"values": v, "vector": vec} for v, vec in zip(values, vector_json(array))]


def config_from_json(space: ConfigurationSpace, data: dict) -> Configuration:
    if data.get("vector") is not None:
        vector = np.array([np.nan if v is None else v for v in data["vector"]], dtype=float)
        return Configuration(space, vector=vector)
    return Configuration(space, values=data["values"])


def space_to_json(space: ConfigurationSpace) -> dict:
    return space.to_serialized_dict()


def space_from_json(data: dict) -> ConfigurationSpace:
    return ConfigurationSpace.from_serialized_dict(data)


def check_storable(key: Any, info: Dict[str, Any], encode: Callable[[], Any]) -> Any:
    """``encode()``'s result (the log line of a tell, or None without a log); a TypeError that
    names the first key of ``info`` (a trial's ``additional_info``) that JSON cannot hold, when
    ``encode`` fails or, without a log, when ``info`` cannot be encoded."""
    try:
        line = encode()
        if line is None and info:
            dumps(info)
        return line
    except (TypeError, ValueError):
        bad, what = _json_problem(info)
        raise TypeError(f"trial {key}: additional_info[{bad!r}] is {what}, which a run cannot "
                        "store; keep additional_info to numbers, strings, lists and dicts") from None


def _json_problem(info: Dict[str, Any]) -> Tuple[str, str]:
    """The first key of ``info`` (which JSON cannot hold) whose value it cannot hold, and what
    that value is."""
    for key, value in info.items():
        try:
            dumps({str(key): value})
        except (TypeError, ValueError):
            return str(key), f"of type {type(value).__name__}"
    return "?", "keyed by a non-string"
