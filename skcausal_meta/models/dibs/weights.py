"""The DiBS posterior from the final particles: their hard graphs and mixture or empirical weights."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from scipy.special import logsumexp

from ..._validation import is_dag
from .models import log_graph_prior

__all__ = ["particle_posterior"]


def particle_posterior(graphs, theta, model, cfg: dict, posterior: str):
    """``(graphs (S, d, d), particle (S,), log_weights (S,))`` of the posterior over DAGs.

    ``graphs`` are the particles' hard graphs ``(P, d, d)`` (a tensor), ``theta`` their parameter
    particles (joint inference; double precision) and ``model`` the likelihood model on the
    training data. ``"mixture"`` (DiBS+) weighs by the unnormalised posterior: over the unique
    graphs ``p(G) p(D | G)`` (marginal), per particle ``p(G) p(theta | G) p(D | G, theta)``
    (joint); ``"empirical"`` weighs equally. ``particle[s]`` is the particle of sample ``s``.
    Either way a cyclic graph gets weight zero, as in the authors' metrics (its likelihood is no
    density, so it would bias NIL and score); when every one is cyclic, all get equal weights
    with a ``RuntimeWarning``.
    """
    G = graphs.cpu().numpy()
    index = np.arange(G.shape[0])
    if cfg["likelihood"] == "bge" and posterior == "mixture":
        _, index = np.unique(G.reshape(G.shape[0], -1), axis=0, return_index=True)
    if posterior == "empirical":
        log_w = np.zeros(index.size)
    else:
        Gt = graphs[index].to(torch.float64)
        log_w = log_graph_prior(Gt, cfg["graph_prior"], cfg["edges_per_node"])
        if cfg["likelihood"] == "bge":
            log_w = log_w + model.log_joint(Gt, [])
        else:
            log_w = log_w + model.log_joint(Gt.unsqueeze(1), [p[index] for p in theta])[:, 0]
        log_w = log_w.cpu().numpy()
    acyclic = np.array([is_dag(g) for g in G[index]])
    if not acyclic.any():
        warnings.warn("DiBS: every particle graph is cyclic; giving them equal weights", RuntimeWarning)
        acyclic[:] = True
        log_w = np.zeros_like(log_w)
    log_w = np.where(acyclic, log_w, -np.inf)
    return G[index], index, log_w - logsumexp(log_w)
