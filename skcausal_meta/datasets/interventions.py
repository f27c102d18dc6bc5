"""Interventions: what is done to which rows.

:class:`Interventions` is the concrete, row-aligned description used by
:meth:`SCMInstance.sample` and :meth:`SCMInstance.log_prob`: a boolean ``mask (n, d)``
(``mask[r, j]`` True when node ``j`` is intervened on in row ``r``), the ``values (n, d)`` and
the ``kind``:

- ``"perfect"`` (do): ``x_j := value``; the node's own mechanism and noise are cut, so its term
  is dropped from the log density (truncated factorisation);
- ``"shift"`` (soft): the mechanism is kept and its mean moves, ``x_j := f_j(pa_j) + value + e_j``.

:class:`InterventionSpec` is the family-level recipe that draws such an object for a block of
interventional rows: one target per contiguous row block (``targets="single"``) or a random
fraction of nodes per block (``targets=<float>``), with values ``sign * U(value)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .._validation import check_interventions, check_positive_int, check_random_state
from ._params import draw_signed, validate_range

__all__ = ["Interventions", "InterventionSpec", "INTERVENTION_KINDS"]

INTERVENTION_KINDS = ("perfect", "shift")


@dataclass
class Interventions:
    """Row-aligned interventions: ``mask (n, d)`` bool, ``values (n, d)`` float, ``kind``.

    ``values`` should be 0 outside the mask: a ``"shift"`` adds its whole column.

    Examples
    --------
    Intervene on node 0 in the last two of four rows, as ``do(X0 = 5)`` or as a shift by 5:

    >>> import numpy as np
    >>> from skcausal_meta.datasets import Interventions, get_family
    >>> scm = get_family("id").sample_instance(random_state=0, n_nodes=3)
    >>> mask = np.zeros((4, 3), dtype=bool)
    >>> mask[2:, 0] = True
    >>> scm.sample(4, Interventions(mask, values=5.0 * mask), random_state=0)[2:, 0]
    array([5., 5.])
    >>> shift = Interventions(mask, values=5.0 * mask, kind="shift")
    >>> (scm.sample(4, shift, random_state=0) - scm.sample(4, random_state=0))[:, 0]
    array([0., 0., 5., 5.])
    """

    mask: np.ndarray
    values: np.ndarray
    kind: str = "perfect"

    def __post_init__(self):
        self.mask = np.asarray(self.mask, dtype=bool)
        self.values = np.asarray(self.values, dtype=float)
        if self.kind not in INTERVENTION_KINDS:
            raise ValueError(f"kind must be one of {INTERVENTION_KINDS}, got {self.kind!r}")
        if self.mask.ndim != 2 or self.values.shape != self.mask.shape:
            raise ValueError(
                f"mask and values must both have shape (n, d), got {self.mask.shape} and {self.values.shape}"
            )

    @classmethod
    def coerce(cls, interventions, n: int, d: int) -> "Interventions":
        """Accept ``None`` (observational), an :class:`Interventions` or a bare mask.

        A bare mask means perfect interventions whose values are irrelevant, which is all
        :meth:`SCMInstance.log_prob` needs (the intervened terms are dropped).
        """
        if isinstance(interventions, cls):
            if interventions.mask.shape != (n, d):
                raise ValueError(f"interventions must have shape {(n, d)}, got {interventions.mask.shape}")
            return interventions
        mask = check_interventions(interventions, n, d)
        return cls(mask, np.zeros((n, d)), "perfect")

    @classmethod
    def observational(cls, n: int, d: int) -> "Interventions":
        """No intervention on any of ``n`` rows."""
        return cls(np.zeros((n, d), dtype=bool), np.zeros((n, d)), "perfect")


@dataclass
class InterventionSpec:
    """Recipe for the interventional rows of a data set.

    Parameters
    ----------
    kind : {"perfect", "shift"}
        Perfect (do) interventions or mean shifts that keep the mechanism.
    targets : "single" or float in (0, 1)
        ``"single"``: the rows are split into contiguous blocks, one intervened node per block.
        A float: each block intervenes on ``round(targets * d)`` random nodes (at least 1, at
        most ``d - 1``).
    value : float or [low, high]
        Intervention values (do) or shifts are ``sign * U(low, high)``, one per block and node.
    n_blocks : int or None
        Number of row blocks; ``None`` uses ``d`` (each node targeted once for ``"single"`` when
        there are at least ``d`` rows).
    unknown_targets : bool
        When True, data sets report an all-False mask to the estimator although the rows were
        intervened on (the unknown-target setting).

    Examples
    --------
    Two observational rows followed by six interventional rows over three nodes: three blocks
    of two rows, one target each, with values of magnitude 2 and a random sign:

    >>> import numpy as np
    >>> from skcausal_meta.datasets import InterventionSpec
    >>> spec = InterventionSpec(kind="perfect", targets="single", value=2.0)
    >>> iv = spec.draw(6, 3, np.random.default_rng(0), n_observational=2)
    >>> iv.mask.astype(int)
    array([[0, 0, 0],
           [0, 0, 0],
           [0, 0, 1],
           [0, 0, 1],
           [1, 0, 0],
           [1, 0, 0],
           [0, 1, 0],
           [0, 1, 0]])
    >>> iv.values[iv.mask]
    array([-2., -2., -2., -2.,  2.,  2.])

    A fraction of targets intervenes on that share of the nodes in every row:

    >>> InterventionSpec(targets=0.5).draw(4, 6, np.random.default_rng(0)).mask.sum(axis=1)
    array([3, 3, 3, 3])
    """

    kind: str = "perfect"
    targets: str | float = "single"
    value: float | list = (1.0, 3.0)
    n_blocks: int | None = None
    unknown_targets: bool = False

    def __post_init__(self):
        if self.kind not in INTERVENTION_KINDS:
            raise ValueError(f"kind must be one of {INTERVENTION_KINDS}, got {self.kind!r}")
        if self.targets != "single" and not (isinstance(self.targets, float) and 0.0 < self.targets < 1.0):
            raise ValueError(f"targets must be 'single' or a fraction in (0, 1), got {self.targets!r}")
        validate_range(self.value, "value", low=0.0)
        if self.n_blocks is not None:
            check_positive_int(self.n_blocks, "n_blocks")

    def draw(self, n_rows: int, n_nodes: int, rng: np.random.Generator, n_observational: int = 0) -> Interventions:
        """Interventions for ``n_rows`` interventional rows over ``n_nodes`` nodes.

        With ``n_observational > 0`` they follow that many rows without intervention (the
        returned object covers ``n_observational + n_rows`` rows), so one forward pass of an
        SCM draws a data set's observational and interventional rows together.
        """
        n_rows, n_nodes = check_positive_int(n_rows, "n_rows", minimum=0), check_positive_int(n_nodes, "n_nodes")
        n_observational = check_positive_int(n_observational, "n_observational", minimum=0)
        rng = check_random_state(rng)
        mask = np.zeros((n_observational + n_rows, n_nodes), dtype=bool)
        values = np.zeros((n_observational + n_rows, n_nodes))
        if n_rows == 0:
            return Interventions(mask, values, self.kind)
        if n_nodes < 2:
            raise ValueError("interventional rows need at least 2 nodes (one must stay observed)")
        n_blocks = min(self.n_blocks or n_nodes, n_rows)
        # block k covers interventional rows [k n / b, (k + 1) n / b), rounded down
        bounds = np.arange(n_blocks + 1) * n_rows // n_blocks
        if self.targets == "single":
            order = np.concatenate([rng.permutation(n_nodes) for _ in range(-(-n_blocks // n_nodes))])
            targets = order[:n_blocks, None]
        else:
            size = int(np.clip(round(self.targets * n_nodes), 1, n_nodes - 1))
            targets = np.stack([rng.choice(n_nodes, size=size, replace=False) for _ in range(n_blocks)])
        block_values = draw_signed(self.value, targets.shape, rng)  # (n_blocks, targets per block)
        block_of_row = np.repeat(np.arange(n_blocks), bounds[1:] - bounds[:-1])
        rows = np.arange(n_observational, n_observational + n_rows)[:, None]
        mask[rows, targets[block_of_row]] = True
        values[rows, targets[block_of_row]] = block_values[block_of_row]
        return Interventions(mask, values, self.kind)

    def to_dict(self) -> dict:
        """JSON-serialisable description."""
        return asdict(self)
