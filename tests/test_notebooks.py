"""Every notebook of examples/ runs top to bottom in a fresh kernel, shows what it promises,
and matches the cells of examples/make_notebooks.py (which writes them)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import List, Optional

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(p.name for p in EXAMPLES.glob("*.ipynb"))


def _maker():
    spec = importlib.util.spec_from_file_location("make_notebooks", EXAMPLES / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _outputs(nb, output_type: Optional[str] = None) -> List[dict]:
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
            if output_type is None or o.output_type == output_type]


def _text(nb) -> str:
    parts = []
    for o in _outputs(nb):
        if o.output_type == "stream":
            parts.append(o.text)
        elif "data" in o:
            parts.extend(str(v) for k, v in o.data.items() if k.startswith("text/"))
    return "\n".join(parts)


def _images(nb) -> int:
    return sum("image/png" in o.get("data", {}) for o in _outputs(nb))


def test_there_are_notebooks() -> None:
    assert {"ask_tell_sklearn.ipynb", "dask_dashboard.ipynb", "comparing_runs.ipynb", "sklearn_search.ipynb"} <= \
        set(NOTEBOOKS)


def test_notebooks_match_their_source() -> None:
    maker = _maker()
    assert set(maker.NOTEBOOKS) == set(NOTEBOOKS), "run: python examples/make_notebooks.py"
    for name, cells in maker.NOTEBOOKS.items():
        stored = nbformat.read(EXAMPLES / name, as_version=4)
        nbformat.validate(stored)
        assert [(c.cell_type, c.source) for c in stored.cells] == [
            ("markdown" if kind == "md" else "code", src) for kind, src in cells
        ], f"{name} differs from examples/make_notebooks.py; edit the script and rerun it"
        assert not _outputs(stored), f"{name} is stored with outputs; store it clean"


@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name: str, tmp_path: Path) -> None:
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, if a cell fails
    assert not _outputs(nb, "error")
    text = _text(nb)
    assert "Traceback" not in text

    if name == "ask_tell_sklearn.ipynb":
        assert "smacish.Optimizer" in text and "<table>" in text  # the HTML summaries
        assert "RunHistory" in text
        assert "incumbent_so_far" in text and "walltime" in text
        assert "test accuracy" in text
        assert _images(nb) == 2
    elif name == "dask_dashboard.ipynb":
        assert "dashboard: http://127.0.0.1:" in text
        assert "44 trials on" in text
        # the progress bar: a widget when ipywidgets is installed, a text bar otherwise
        widgets = [o for o in _outputs(nb) if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
        assert widgets or "trial/s" in text or "44/44" in text
        assert _images(nb) == 2
    elif name == "comparing_runs.ipynb":
        assert "median of 5" not in text  # legends are in the images, not in the text
        assert _images(nb) == 2
        assert "Hyperband" in text and "SuccessiveHalving" in text
    elif name == "sklearn_search.ipynb":
        found = {m["name"]: (int(m["n"]), int(m["budget"]), float(m["acc"])) for m in re.finditer(
            r"(?m)^(?P<name>[\w ]+): (?P<n>\d+) evaluations, budget (?P<budget>\d+) samples, "
            r"test accuracy (?P<acc>[\d.]+)$", text)}
        assert set(found) == {"GridSearchCV", "HalvingRandomSearchCV", "smacish HyperbandSearchCV"}, found
        assert all(0.85 < acc <= 1 for _, _, acc in found.values()), found
        grid, halving, ours = (found[k] for k in ("GridSearchCV", "HalvingRandomSearchCV",
                                                    "smacish HyperbandSearchCV"))
        assert grid[0] == 12 and grid[1] == 12 * 1347  # every grid point on all the training samples
        # the same budget as the halving search: smacish stops once it is spent (the last trial may
        # finish past it, by at most one full-sample cross-validation; n_resources rounds each budget)
        assert halving[1] - ours[0] <= ours[1] <= halving[1] + 1347
        assert "rank_test_score" in text and "SUCCESS" in text and "n_resources" in text
        assert _images(nb) == 1
