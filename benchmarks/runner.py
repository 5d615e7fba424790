"""Launching adapter batches: each in its library's venv, as a subprocess that writes JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from benchmarks.peers import ADAPTERS
from benchmarks.setup_peers import VENVS, available_peers, venv_python

ROOT = Path(__file__).resolve().parent.parent
# SMACISH_BENCH_RESULTS moves the results (the smoke test writes to a temporary directory)
RESULTS = Path(os.environ.get("SMACISH_BENCH_RESULTS", ROOT / "benchmarks" / "results"))

# one thread per trial everywhere: the machine has 2 cores and the libraries must not fight
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "PYTHONWARNINGS": "ignore", "PYTHONHASHSEED": "0"}


def python_for(adapter: str) -> Optional[str]:
    """The interpreter of the adapter's venv, or None when that venv was not set up."""
    venv = ADAPTERS[adapter].venv
    if venv is None:
        return sys.executable
    if venv not in available_peers():
        return None
    return str(venv_python(venv))


DEADLINE_SCALE = 1.0  # `--deadline-scale`: longer batch deadlines on a slow or busy machine


def command() -> str:
    """The command line that is running, as a reader would type it."""
    argv = sys.argv[1:] if sys.argv and sys.argv[0].endswith("__main__.py") else []
    return " ".join(["python -m benchmarks", *argv]) if argv else "python -m benchmarks"


def run_batch(adapter: str, spec: Dict[str, Any], timeout: float, log: Any = None) -> Dict[str, Any]:
    """Run ``spec`` with ``adapter`` in its venv; returns the batch's JSON (possibly partial,
    with ``"timed_out": True``), or ``{"skipped": reason}``."""
    timeout = timeout * DEADLINE_SCALE
    python = python_for(adapter)
    if python is None:
        return {"adapter": adapter, "skipped": f"not installed (no {VENVS / ADAPTERS[adapter].venv}); "
                                                 "run `python -m benchmarks setup-peers`", "runs": []}
    spec = dict(spec, adapter=adapter)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        spec_path, out_path = os.path.join(tmp, "spec.json"), os.path.join(tmp, "out.json")
        with open(spec_path, "w") as fh:
            json.dump(spec, fh)
        env = dict(os.environ, **THREAD_ENV)
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        t0 = time.perf_counter()
        proc = subprocess.Popen([python, "-m", "benchmarks.peers._run", spec_path, out_path], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        timed_out = False
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            output, _ = proc.communicate()
        if os.path.exists(out_path):
            with open(out_path) as fh:
                result = json.load(fh)
        else:
            result = {"adapter": adapter, "runs": [], "error": f"no output (exit code {proc.returncode})"}
        result["timed_out"] = timed_out
        result["batch_seconds"] = time.perf_counter() - t0
        result["python"] = python
        if output and output.strip():
            result["log_tail"] = output.strip().splitlines()[-40:]
            if log is not None:
                log.write(output)
        return result


def _kill_group(proc: "subprocess.Popen[str]") -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def adapter_names(include: Optional[List[str]] = None) -> List[str]:
    names = list(ADAPTERS)
    return [n for n in names if include is None or n in include]


def save(name: str, data: Dict[str, Any], root: Optional[Path] = None, indent: Optional[int] = None) -> Path:
    """Write ``data`` to ``<root>/<name>.json`` atomically (``root``: :data:`RESULTS`)."""
    root = root or RESULTS
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{name}.json"
    tmp = path.with_suffix(".json.part")
    tmp.write_text(json.dumps(data, default=_jsonable, indent=indent, sort_keys=indent is not None))
    os.replace(tmp, path)
    return path


def load(name: str, root: Optional[Path] = None) -> Optional[Dict[str, Any]]:
    path = (root or RESULTS) / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None



def keep_other_batches(name: str, settings: Dict[str, Any], batches: Dict[str, Any], command: str,
                       rerun: bool, loader: Any = None) -> tuple:
    """When only some libraries were re-run (``rerun``), the stored batches of the others in
    ``name`` (read by ``loader``, default :func:`load`) stay, if they were measured with the
    same ``settings``. Returns the batches and the command that now produced them."""
    previous = (loader or load)(name) if rerun else None
    if not previous or previous.get("settings") != json.loads(json.dumps(settings)):
        return batches, command
    kept = sorted(set(previous["batches"]) - set(batches))
    merged = {**{k: previous["batches"][k] for k in kept}, **batches}
    return merged, f"{previous['command']}, then {command} (kept: {', '.join(kept)})"

def _jsonable(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
