"""Create one virtualenv per peer library under ``.bench-venvs/<peer>/`` (the peers conflict
with each other: SMAC3 pins its own ConfigSpace/pyrfr/dask, HpBandSter is from 2018, ...).

``python -m benchmarks setup-peers [peer ...]`` (``make bench-peers``). Each venv gets the peer,
plus what the benchmark problems need (numpy, scikit-learn); a failing install is reported and
the other peers go on. The outcome of each install is written to
``.bench-venvs/<peer>/setup.json`` and summarised at the end.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / ".bench-venvs"

# Each peer: a list of pip install steps (each step one `pip install ...` call), and the module
# whose import proves the install works.
PEERS: Dict[str, Dict[str, object]] = {
    "smac": {
        "steps": [
            ["swig", "setuptools", "wheel", "numpy"],
            # pyrfr has no wheel: it builds from source with SWIG, without build isolation
            ["--no-build-isolation", "pyrfr>=0.9"],
            ["smac>=2.0,<3", "scikit-learn"],
        ],
        "check": "import smac, ConfigSpace, sklearn; from importlib.metadata import version; print(version('smac'))",
    },
    "hpbandster": {
        "steps": [
            # numpy < 2: numpy 2 prints floats as np.float64(1.0), which HpBandSter's Pyro4/serpent
            # messages cannot parse back, so every job is silently lost and the run hangs
            ["setuptools", "wheel", "numpy<2", "pandas<3"],
            ["hpbandster", "Pyro4", "serpent", "statsmodels", "scikit-learn", "numpy<2", "pandas<3"],
        ],
        "check": "import hpbandster, ConfigSpace, sklearn; from importlib.metadata import version; "
                 "print(version('hpbandster'))",
    },
    "optuna": {
        "steps": [["optuna", "numpy", "scikit-learn"]],
        "check": "import optuna, sklearn; from importlib.metadata import version; print(version('optuna'))",
    },
    "dehb": {
        "steps": [["dehb", "scikit-learn", "dask", "distributed"]],
        "check": "import dehb, ConfigSpace, sklearn; from importlib.metadata import version; "
                 "print(version('dehb'))",
    },
    # dask-ml's HyperbandSearchCV: only benchmarks/sklearn_search.py uses it (estimators with partial_fit).
    # dask-ml 2025.1.0 (the latest, Feb 2025) with the dask, scikit-learn and pandas of its time: with
    # dask >= 2025.2 its fit fails ("Attempting to use an asynchronous Client in a synchronous context")
    "daskml": {
        "steps": [["dask-ml==2025.1.0", "dask[array,dataframe]==2025.1.0", "distributed==2025.1.0",
                   "scikit-learn==1.6.1", "pandas<3", "numpy<2.3", "scipy"]],
        "check": "import dask_ml.model_selection, sklearn; from importlib.metadata import version; "
                 "print(version('dask-ml'))",
    },
}


def venv_python(peer: str) -> Path:
    return VENVS / peer / "bin" / "python"


def _run(cmd: Sequence[str], log) -> int:
    log.write("$ " + " ".join(cmd) + "\n")
    log.flush()
    return subprocess.call(list(cmd), stdout=log, stderr=subprocess.STDOUT)


def setup_peer(peer: str, python: str = sys.executable) -> Dict[str, object]:
    """Create (or update) the venv of ``peer``; returns what happened (also in setup.json)."""
    spec = PEERS[peer]
    home = VENVS / peer
    home.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    result: Dict[str, object] = {"peer": peer, "ok": False, "version": None, "error": None}
    with open(home.parent / f"{peer}-setup.log", "w") as log:
        if not venv_python(peer).exists() and _run([python, "-m", "venv", str(home)], log) != 0:
            result["error"] = "python -m venv failed"
        else:
            py = str(venv_python(peer))
            _run([py, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], log)
            env_steps: List[List[str]] = spec["steps"]  # type: ignore[assignment]
            for step in env_steps:
                if _run([py, "-m", "pip", "install", "--quiet", *step], log) != 0:
                    result["error"] = f"pip install {' '.join(step)} failed (see {log.name})"
                    break
            if result["error"] is None:
                out = subprocess.run([py, "-c", spec["check"]], capture_output=True, text=True)  # type: ignore[list-item]
                log.write(out.stdout + out.stderr)
                if out.returncode == 0:
                    result["ok"] = True
                    result["version"] = out.stdout.strip().splitlines()[-1]
                else:
                    result["error"] = "import failed: " + (out.stderr.strip().splitlines() or ["?"])[-1]
    result["seconds"] = round(time.time() - t0, 1)
    if home.exists():
        (home / "setup.json").write_text(json.dumps(result, indent=2))
    return result


def available_peers() -> Dict[str, str]:
    """Peers whose venv was set up successfully: name -> version."""
    found = {}
    for peer in PEERS:
        info = VENVS / peer / "setup.json"
        if info.exists():
            data = json.loads(info.read_text())
            if data.get("ok") and venv_python(peer).exists():
                found[peer] = data.get("version")
    return found


def main(argv: Sequence[str] = ()) -> int:
    peers = list(argv) or list(PEERS)
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        print(f"unknown peer(s) {unknown}; known: {sorted(PEERS)}", file=sys.stderr)
        return 2
    results = []
    for peer in peers:
        print(f"setting up {peer} in {VENVS / peer} ...", flush=True)
        res = setup_peer(peer)
        results.append(res)
        status = f"ok ({res['version']})" if res["ok"] else f"FAILED: {res['error']}"
        print(f"  {peer}: {status} in {res['seconds']} s", flush=True)
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
