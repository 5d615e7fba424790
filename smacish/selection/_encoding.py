"""SpaceEncoder: ConfigSpace vectors <-> the random forest's input matrix.

ConfigSpace already keeps every configuration as a vector (``Configuration.get_array()``):
floats and integers normalised to [0, 1] (in log space when ``log=True``), categoricals and
ordinals as the index of their value, inactive hyperparameters as NaN. That is almost the
model input; the encoder only

- scales ordinal indices to [0, 1] (their order stays, so trees split them by threshold);
- imputes inactive values outside the active range: -1 for numeric and ordinal columns, and
  an extra category (index ``n_choices``) for categoricals;
- reports the feature types the forest needs (0 = numeric, k = categorical with k values).

``decode`` inverts ``encode`` exactly, so a model input row turns back into the vector of the
configuration it came from.
"""

from __future__ import annotations

from typing import Iterable, List

import numpy as np
from ConfigSpace import Configuration, ConfigurationSpace
from ConfigSpace.hyperparameters import CategoricalHyperparameter, OrdinalHyperparameter

NUMERIC, ORDINAL, CATEGORICAL = 0, 1, 2
INACTIVE_NUMERIC = -1.0


class SpaceEncoder:
    """Turns ConfigSpace vectors into model input and back.

    >>> from ConfigSpace import ConfigurationSpace, EqualsCondition
    >>> cs = ConfigurationSpace({"kind": ["a", "b"], "lr": (1e-4, 1.0)})
    >>> _ = cs.add(EqualsCondition(cs["lr"], cs["kind"], "a"))
    >>> enc = SpaceEncoder(cs)
    >>> X = enc.encode_configs([Configuration(cs, {"kind": "b"})])
    >>> X.tolist(), enc.types.tolist()
    ([[1.0, -1.0]], [2, 0])
    >>> enc.decode_configs(X)[0] == Configuration(cs, {"kind": "b"})
    True
    """

    def __init__(self, configspace: ConfigurationSpace):
        self.configspace = configspace
        hps = list(configspace.values())
        self.names: List[str] = [hp.name for hp in hps]
        conditional = set(configspace.conditional_hyperparameters)
        kinds, sizes, types = [], [], []
        for hp in hps:
            if isinstance(hp, CategoricalHyperparameter):
                kinds.append(CATEGORICAL)
                n = len(hp.choices)
                sizes.append(n)
                types.append(n + 1 if hp.name in conditional else n)
            elif isinstance(hp, OrdinalHyperparameter):
                kinds.append(ORDINAL)
                sizes.append(len(hp.sequence))
                types.append(0)
            else:  # floats, integers, constants: their vector is already in [0, 1]
                kinds.append(NUMERIC)
                sizes.append(0)
                types.append(0)
        self.kinds = np.array(kinds, dtype=np.int8)
        self.sizes = np.array(sizes, dtype=float)
        self.types = np.array(types, dtype=np.int64)
        """Per feature: 0 for numeric (and ordinal), the number of categories for categoricals."""
        self.categorical = self.kinds == CATEGORICAL
        self._ordinal = np.flatnonzero(self.kinds == ORDINAL)
        self._ordinal_scale = np.maximum(self.sizes[self._ordinal] - 1.0, 1.0)
        # what an inactive value becomes, per column
        self.inactive_value = np.where(self.categorical, self.sizes, INACTIVE_NUMERIC)

    @property
    def n_features(self) -> int:
        return len(self.names)

    # ------------------------------------------------------------------ vectors <-> X
    def encode(self, vectors: np.ndarray) -> np.ndarray:
        """Model input for ConfigSpace vectors, shape ``(n, n_features)``."""
        X = np.array(vectors, dtype=float, ndmin=2, copy=True)
        if self._ordinal.size:
            X[:, self._ordinal] /= self._ordinal_scale
        inactive = np.isnan(X)
        if inactive.any():
            X[inactive] = np.broadcast_to(self.inactive_value, X.shape)[inactive]
        return X

    def decode(self, X: np.ndarray) -> np.ndarray:
        """ConfigSpace vectors for model input rows (inverse of :meth:`encode`)."""
        V = np.array(X, dtype=float, ndmin=2, copy=True)
        inactive = np.where(self.categorical, V == self.sizes, V < 0)
        if self._ordinal.size:
            V[:, self._ordinal] = np.rint(V[:, self._ordinal] * self._ordinal_scale)
        if self.categorical.any():
            V[:, self.categorical] = np.rint(V[:, self.categorical])
        V[inactive] = np.nan
        return V

    # ------------------------------------------------------------------ configurations
    def vectors_of(self, configs: Iterable[Configuration]) -> np.ndarray:
        """ConfigSpace vectors of ``configs``, shape ``(n, n_features)``."""
        rows = [c.get_array() for c in configs]
        if not rows:
            return np.empty((0, self.n_features))
        return np.vstack(rows).astype(float, copy=False)

    def encode_configs(self, configs: Iterable[Configuration]) -> np.ndarray:
        return self.encode(self.vectors_of(configs))

    def to_configuration(self, vector: np.ndarray) -> Configuration:
        """The Configuration with this ConfigSpace vector (not checked: see ``_sampling``)."""
        return Configuration(self.configspace, vector=np.asarray(vector, dtype=float))

    def decode_configs(self, X: np.ndarray) -> List[Configuration]:
        return [self.to_configuration(v) for v in self.decode(X)]

    def distance_sq(self, X: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Squared distance of each row of ``X`` to ``x``: squared differences on numeric and
        ordinal columns, 1 per differing categorical."""
        diff = X - x
        diff[:, self.categorical] = diff[:, self.categorical] != 0
        return np.einsum("ij,ij->i", diff, diff)

    def __repr__(self) -> str:
        return f"SpaceEncoder({self.n_features} features, {int(self.categorical.sum())} categorical)"
