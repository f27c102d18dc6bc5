"""Ancestral sampling of an :class:`~skcausal_meta.datasets.scm.SCMInstance`, vectorised over rows.

The noise of every node is drawn first, one call per noise kind, into a node-major ``(d, n)``
array (a node's parents are then contiguous rows); the nodes are then walked in topological
order, each row overwritten by ``post_j(f_j(pa_j) + shift_j + e_j)``. Families draw thousands
of data sets, so this is the hot path of data generation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .interventions import Interventions

__all__ = ["forward", "draw_noise"]


def forward(scm, n: int, iv: Interventions | None, rng: np.random.Generator,
            calibrate: bool = False) -> np.ndarray:
    """``n`` rows of the :class:`~skcausal_meta.datasets.SCMInstance` ``scm`` under ``iv``
    (``None``: observational), node-major ``(d, n)``.

    With ``calibrate=True`` (used once, when a family draws the instance), mechanisms that ask
    for it get the output shift and scale that standardise ``f_j`` on these rows.
    """
    XT = draw_noise(scm, n, rng)  # row j becomes x_j
    shift = iv is not None and iv.kind == "shift"
    # perfect interventions overwrite only the columns they touch (those of the mask's True
    # entries, found from their flat indices: faster than reducing the mask over its rows)
    do_nodes = [False] * scm.n_nodes
    if iv is not None and not shift:
        for j in set((np.flatnonzero(iv.mask) % scm.n_nodes).tolist()):
            do_nodes[j] = True
    nodes, parents = scm.nodes, scm.parents
    for j in scm.order.tolist():
        node = nodes[j]
        mechanism, params, noise = node.mechanism, node.mechanism_params, node.noise
        pa = XT.take(parents[j], axis=0).T  # take: half the time of fancy indexing here
        if calibrate and mechanism.standardize:
            raw = mechanism._apply(params, pa)
            std = raw.std()
            params["out_shift"] = float(raw.mean())
            params["out_scale"] = float(std) if std > 1e-8 else 1.0
            z = mechanism._standardized(params, raw)
        else:
            z = mechanism.apply(params, pa)
        row = XT[j]  # the node's noise, or unset when it has none
        if noise is None:
            row[:] = z
        else:
            if noise.scale_depends_on_parents:
                row *= noise.node_scale(node.noise_params, pa)
            row += z
        if shift:
            row += iv.values[:, j]
        x = mechanism.post(params, row)  # the identity returns row itself
        if x is not row:
            row[:] = x
        if do_nodes[j]:
            np.copyto(row, iv.values[:, j], where=iv.mask[:, j])
    return XT


def draw_noise(scm, n: int, rng: np.random.Generator) -> np.ndarray:
    """The noise of every node, ``(d, n)`` (rows of nodes without noise are left unset).

    Drawn group by group (:meth:`Noise.draw_standard`) and multiplied by the nodes' scales,
    except where a scale depends on the parents (:func:`forward` multiplies those).
    """
    noise = np.empty((scm.n_nodes, n))
    for group in scm._noise_groups:
        kind = scm.nodes[group[0]].noise
        node_params = [scm.nodes[j].noise_params for j in group]
        draws = kind.draw_standard(node_params, n, rng)
        if not kind.scale_depends_on_parents:
            draws *= np.array([kind.node_scale(p, None) for p in node_params])[:, None]
        if len(group) == scm.n_nodes:
            return draws
        noise[group] = draws
    return noise
