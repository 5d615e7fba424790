"""SpaceSampler: valid ConfigSpace vectors in bulk: random samples and one-exchange neighbours.

Everything works on matrices of ConfigSpace vectors (one row per configuration, NaN for an
inactive hyperparameter), so thousands of candidates cost a few numpy calls instead of
thousands of ``Configuration`` objects. Validity follows ConfigSpace's own rules, applied the
way ``ConfigurationSpace.sample_configuration`` applies them: conditions deactivate children in
order from the roots, then forbidden clauses drop rows.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import numpy as np
from ConfigSpace import ConfigurationSpace
from ConfigSpace.hyperparameters import (
    CategoricalHyperparameter,
    IntegerHyperparameter,
    OrdinalHyperparameter,
)

_FLOAT, _INT, _CATEGORICAL, _ORDINAL, _FIXED = range(5)


class SpaceSampler:
    """Random valid vectors and one-exchange neighbourhoods of a ConfigurationSpace.

    >>> from ConfigSpace import ConfigurationSpace
    >>> cs = ConfigurationSpace({"x": (0.0, 1.0), "n": (1, 10), "c": ["a", "b", "c"]})
    >>> s = SpaceSampler(cs, seed=0)
    >>> V = s.sample(5)
    >>> V.shape, bool(s.valid(V).all())
    ((5, 3), True)
    >>> N, parent = s.neighbours(V[:1])
    >>> bool((parent == 0).all()), bool(s.valid(N).all())
    (True, True)
    """

    def __init__(self, configspace: ConfigurationSpace, seed: int = 0, n_numeric_neighbours: int = 4,
                 stdev: float = 0.2):
        self.configspace = configspace
        self.hps = list(configspace.values())
        self.n = len(self.hps)
        self.n_numeric_neighbours = n_numeric_neighbours
        self.stdev = stdev
        self._rng = np.random.default_rng(seed)
        kinds = []
        for hp in self.hps:
            if hp.size == 1:
                kinds.append(_FIXED)
            elif isinstance(hp, CategoricalHyperparameter):
                kinds.append(_CATEGORICAL)
            elif isinstance(hp, OrdinalHyperparameter):
                kinds.append(_ORDINAL)
            elif isinstance(hp, IntegerHyperparameter):
                kinds.append(_INT)
            else:
                kinds.append(_FLOAT)
        self._kinds = kinds
        dag = configspace._dag  # ConfigSpace >= 1.0: conditions grouped and ordered from the roots
        self._conditions = [(node.condition, node.children_indices) for node in dag.minimum_conditions]
        self._forbiddens = list(configspace.forbidden_clauses)
        self._defaults = np.asarray(dag.normalized_defaults, dtype=float)

    # ------------------------------------------------------------------ validity
    def legalise(self, full: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Deactivate (NaN) what the conditions switch off and flag rows that are not forbidden.

        ``full`` holds a legal value for every hyperparameter (active or not); returns the
        vectors with inactive values set to NaN, and a boolean mask of the allowed rows.
        """
        V = np.array(full, dtype=float, ndmin=2, copy=True)
        columns = V.T  # ConfigSpace's vectorised checks take one row per hyperparameter
        for condition, children in self._conditions:
            off = ~condition.satisfied_by_vector_array(columns)
            if off.any():
                columns[np.ix_(children, off)] = np.nan
        allowed = np.ones(len(V), dtype=bool)
        for clause in self._forbiddens:
            allowed &= ~clause.is_forbidden_vector_array(columns)
        return V, allowed

    def valid(self, V: np.ndarray) -> np.ndarray:
        """Mask of the rows that are valid vectors (legal values, activity, forbidden clauses)."""
        V = np.array(V, dtype=float, ndmin=2)
        ok = np.ones(len(V), dtype=bool)
        for j, hp in enumerate(self.hps):
            col = V[:, j]
            set_ = ~np.isnan(col)
            if set_.any():
                ok[set_] &= np.asarray(hp.legal_vector(col[set_]), dtype=bool)
        full = np.where(np.isnan(V), self._defaults, V)
        legal, allowed = self.legalise(full)
        same_activity = (np.isnan(legal) == np.isnan(V)).all(axis=1)
        return ok & allowed & same_activity

    # ------------------------------------------------------------------ random samples
    def sample(self, n: int, max_rounds: int = 20) -> np.ndarray:
        """``n`` random valid vectors (ConfigSpace's distributions: priors and weights hold).

        May return fewer when forbidden clauses reject almost everything.
        """
        out: List[np.ndarray] = []
        have = 0
        # ConfigSpace samples with a RandomState; one per call, seeded from the Generator, keeps
        # this sampler's whole state one small Generator state
        random_state = np.random.RandomState(int(self._rng.integers(2**31 - 1)))
        for _ in range(max_rounds):
            size = max(2 * (n - have), 8) if out or self._forbiddens else n
            full = np.empty((size, self.n))
            for j, hp in enumerate(self.hps):
                full[:, j] = hp.sample_vector(size, seed=random_state)
            V, allowed = self.legalise(full)
            V = V[allowed]
            out.append(V)
            have += len(V)
            if have >= n:
                break
        return np.vstack(out)[:n] if out else np.empty((0, self.n))

    # ------------------------------------------------------------------ neighbours
    def neighbours(self, V: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """The one-exchange neighbourhood of every row of ``V``: each neighbour changes one
        active hyperparameter (floats and integers: ``n_numeric_neighbours`` Gaussian steps of
        ``stdev`` in the [0, 1] vector space; categoricals: every other value; ordinals: the
        adjacent values). Children switched on by the change take their default, as in
        ConfigSpace. Returns the valid neighbours and, per neighbour, the row it comes from.
        """
        V = np.array(V, dtype=float, ndmin=2)
        rows: List[np.ndarray] = []
        cols: List[np.ndarray] = []
        vals: List[np.ndarray] = []
        k = self.n_numeric_neighbours
        for j, (hp, kind) in enumerate(zip(self.hps, self._kinds)):
            if kind == _FIXED:
                continue
            active = np.flatnonzero(~np.isnan(V[:, j]))
            if not active.size:
                continue
            current = V[active, j]
            if kind == _FLOAT or kind == _INT:
                r = np.repeat(active, k)
                cur = np.repeat(current, k)
                step = self._rng.normal(0.0, self.stdev, size=r.size)
                new = _reflect(cur + step)
                if kind == _INT:
                    new = self._int_step(hp, cur, new, step)
                keep = new != cur
                rows.append(r[keep])
                vals.append(new[keep])
            elif kind == _CATEGORICAL:
                size = len(hp.choices)
                r = np.repeat(active, size - 1)
                offsets = np.tile(np.arange(1, size), active.size)
                rows.append(r)
                vals.append((np.repeat(current, size - 1) + offsets) % size)
            else:  # ordinal: one step down, one step up
                size = len(hp.sequence)
                r = np.concatenate([active, active])
                new = np.concatenate([current - 1, current + 1])
                keep = (new >= 0) & (new <= size - 1)
                rows.append(r[keep])
                vals.append(new[keep])
            cols.append(np.full(rows[-1].size, j))
        if not rows:
            return np.empty((0, self.n)), np.empty(0, dtype=np.intp)
        row = np.concatenate(rows)
        col = np.concatenate(cols)
        full = np.where(np.isnan(V), self._defaults, V)[row]
        full[np.arange(row.size), col] = np.concatenate(vals)
        N, allowed = self.legalise(full)
        return N[allowed], row[allowed]

    def get_state(self) -> Dict[str, Any]:
        return self._rng.bit_generator.state

    def set_state(self, state: Dict[str, Any]) -> None:
        self._rng.bit_generator.state = state

    @staticmethod
    def _int_step(hp, cur: np.ndarray, new: np.ndarray, step: np.ndarray) -> np.ndarray:
        """Snap integer steps to the grid; a step too small to move goes one value further."""
        old_value = np.asarray(hp.to_value(cur), dtype=np.int64)
        value = np.asarray(hp.to_value(new), dtype=np.int64)
        stuck = value == old_value
        value = np.where(stuck, old_value + np.where(step >= 0, 1, -1), value)
        value = np.clip(value, hp.lower, hp.upper)
        return np.asarray(hp.to_vector(value), dtype=float)

    def __repr__(self) -> str:
        return f"SpaceSampler({self.n} hyperparameters)"


def _reflect(x: np.ndarray) -> np.ndarray:
    """Fold values back into [0, 1] (a step past a bound bounces back)."""
    x = np.abs(x)
    x = np.where(x > 1.0, 2.0 - x, x)
    return np.clip(x, 0.0, 1.0)
