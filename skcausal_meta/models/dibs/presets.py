"""Named DiBS hyperparameter presets.

The values are those of the authors' reference implementation (dibs-lib 1.3.3, which
accompanies Lorch et al. 2021): ``MarginalDiBS`` defaults for BGe marginal inference and
``JointDiBS`` defaults for joint inference, with the linear-Gaussian and nonlinear
(one hidden layer of 5 ReLU units) Gaussian models and the observation noise variance 0.1 used in
the paper's experiments. ``n_particles=20`` and ``n_steps=1000`` follow the paper's examples.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PRESETS", "estimated_fit_seconds", "resolve_config"]

_COMMON = dict(
    n_particles=20,
    n_steps=1000,
    latent_dim=None,  # None: k = d
    beta_linear=1.0,
    tau=1.0,
    n_grad_mc_samples=128,
    n_acyclicity_mc_samples=32,
    kernel_bandwidth=5.0,
    learning_rate=0.005,
    theta_bandwidth=500.0,
    obs_noise=0.1,
    param_prior_std=1.0,
    hidden_layers=(5,),
)

PRESETS = {
    "marginal": dict(
        _COMMON,
        likelihood="bge",
        alpha_linear=1.0,
        grad_estimator="score",
    ),
    "joint-linear": dict(
        _COMMON,
        likelihood="linear",
        alpha_linear=0.05,
        grad_estimator="reparam",
    ),
    "joint-nonlinear": dict(
        _COMMON,
        likelihood="mlp",
        alpha_linear=0.05,
        grad_estimator="reparam",
    ),
}

_INTS = ("n_particles", "n_steps", "n_grad_mc_samples", "n_acyclicity_mc_samples")


def resolve_config(params: dict, d: int) -> dict:
    """The settings of a DiBS fit on ``d`` nodes from ``DibsEstimator.get_params()`` (validated).

    The preset ``params["preset"]``, overridden by every parameter given (not ``None``), with
    ``latent_dim = d`` by default; plus the graph prior (``graph_prior``, ``edges_per_node``)
    and the latent prior's standard deviation ``1 / sqrt(latent_dim)``.
    """
    cfg = dict(PRESETS[params["preset"]])
    cfg.update({key: params[key] for key in cfg if params.get(key) is not None})
    for key in _INTS:
        cfg[key] = int(cfg[key])
    cfg["latent_dim"] = d if cfg["latent_dim"] is None else int(cfg["latent_dim"])
    cfg.update(graph_prior=params["graph_prior"], edges_per_node=float(params["edges_per_node"]),
               latent_prior_std=1.0 / np.sqrt(cfg["latent_dim"]))
    return cfg


def estimated_fit_seconds(cfg: dict, d: int) -> float:
    """Rough CPU time of a DiBS fit on one thread: ``5e-7 s * particles * steps * MC graphs * d^2``.

    Each step scores ``n_grad_mc_samples + n_acyclicity_mc_samples`` graphs of ``d^2`` edges
    per particle; the constant is fitted to d = 50 with the marginal preset's defaults, which ran
    about 67 minutes (smaller ``d`` run relatively slower, their fixed costs dominating).
    """
    graphs = cfg["n_grad_mc_samples"] + cfg["n_acyclicity_mc_samples"]
    return 5e-7 * cfg["n_particles"] * cfg["n_steps"] * graphs * d**2
