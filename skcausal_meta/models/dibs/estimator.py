"""scikit-learn estimator for DiBS (Lorch et al. 2021)."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import torch
from sklearn.utils._param_validation import StrOptions

from ..._validation import check_random_state
from .._constraints import NON_NEGATIVE_FLOAT, POSITIVE_FLOAT, POSITIVE_INT, Widths
from ..base import BaseCausalEstimator
from ..devices import torch_generator
from ..posterior import GraphPosterior
from .models import GRAPH_PRIORS, make_likelihood_model
from .presets import PRESETS, estimated_fit_seconds, resolve_config
from .svgd import hard_graphs, run_svgd
from .weights import particle_posterior

if TYPE_CHECKING:
    from ..._typing import RandomStateLike

__all__ = ["DibsEstimator"]

# SVGD runs in single precision (twice as fast; Monte Carlo noise dwarfs rounding); mixture
# weights and held-out scores are computed in double precision.
_INFERENCE_DTYPE = torch.float32
_LONG_FIT_SECONDS = 30 * 60


class DibsEstimator(BaseCausalEstimator):
    """Differentiable Bayesian structure learning (DiBS) with SVGD, in PyTorch.

    Infers a particle approximation of the posterior over DAGs ``p(G | D)`` (marginal inference
    with the BGe score) or over graphs and mechanisms ``p(G, theta | D)`` (joint inference with
    linear-Gaussian or MLP-Gaussian mechanisms), following Lorch et al. (2021). Particles are
    latent ``Z = (U, V)`` with ``p(G_ij | Z) = sigmoid(alpha_t u_i . v_j)``, pushed towards
    acyclicity by ``beta_t h(G)``; see ``skcausal_meta.models.dibs.svgd`` for the algorithm.
    Hard interventions with known targets are supported through ``interventions``.

    Parameters
    ----------
    preset : {"marginal", "joint-linear", "joint-nonlinear"}, default="marginal"
        Named settings (likelihood, schedules, estimators, kernel, step size) from
        ``skcausal_meta.models.dibs.presets.PRESETS``. Every parameter below left at
        ``None`` takes the preset's value.
    n_particles, n_steps : int, default=None
        Number of SVGD particles and steps.
    latent_dim : int, default=None
        Latent dimension ``k`` of ``U, V``; ``None`` uses ``d``.
    alpha_linear, beta_linear : float, default=None
        Slopes of the linear schedules ``alpha_t = alpha_linear t`` and ``beta_t = beta_linear t``.
    tau : float, default=None
        Gumbel-softmax temperature.
    n_grad_mc_samples, n_acyclicity_mc_samples : int, default=None
        Monte Carlo graphs per particle and step for the likelihood and acyclicity gradients.
    grad_estimator : {"score", "reparam"}, default=None
        Score-function or Gumbel-soft reparameterised gradient of the likelihood term.
    kernel_bandwidth, theta_bandwidth : float, default=None
        RBF kernel bandwidths for ``Z`` and (joint inference) ``theta``.
    learning_rate : float, default=None
        RMSProp step size.
    obs_noise : float, default=None
        Noise variance of the joint models (on standardised data when ``standardize``).
    param_prior_std : float, default=None
        Standard deviation of the Gaussian prior on mechanism parameters.
    hidden_layers : tuple of int, default=None
        Hidden widths of the MLP mechanisms (``"joint-nonlinear"``).
    graph_prior : {"er", "sf"}, default="er"
        Erdos-Renyi or scale-free graph prior.
    edges_per_node : float, default=2.0
        Expected edges per node of the Erdos-Renyi prior.
    posterior : {"mixture", "empirical"}, default="mixture"
        ``"empirical"``: uniform weights over the acyclic particles. ``"mixture"`` (DiBS+):
        weights proportional to the unnormalised posterior ``p(G) p(D | G)`` (marginal; over the
        unique particle graphs) or ``p(G) p(theta | G) p(D | G, theta)`` (joint; per particle).
        Either way a cyclic particle gets weight zero, as the authors' metrics leave cyclic graphs
        out (dibs-lib's ``expected_shd``); when every particle is cyclic, all get equal weights
        with a warning. (As in the paper's code; dibs-lib 1.3.3's ``get_mixture``
        leaves out ``p(G)`` and weights duplicate particles separately.)
    n_threads : int or None, default=None
        Torch intra-op threads during ``fit``; ``None`` uses one thread when the tensors are
        small (``n_particles * n_grad_mc_samples * d^2``, times ``n`` for the joint presets below about 4 million elements), where a second thread gains little on
        quiet cores and costs many times over on busy ones, and torch's setting otherwise.
        The previous setting is restored after ``fit``.
    standardize : bool, default=True
        z-score the columns before inference (see :class:`~skcausal_meta.models.base.BaseCausalEstimator`).
    verbose : bool or int, default=False
        Show a progress bar over the SVGD steps.
    device : str, default="auto"
    random_state : int, numpy.random.Generator or None, default=None

    Attributes
    ----------
    particles_ : ndarray of shape (n_particles, d, k, 2)
        Final latent particles.
    theta_ : list of ndarray
        Final parameter particles (joint inference; empty for ``"marginal"``).
    graphs_ : ndarray of shape (S, d, d)
        Posterior graph samples; ``log_weights_`` their normalised log weights.

    Notes
    -----
    Fitting on the CPU warns when it is estimated to take over 30 minutes (see
    ``skcausal_meta.models.dibs.presets.estimated_fit_seconds``); a fit whose particles run off (a step size far too large)
    raises ``FloatingPointError`` naming the step and ``learning_rate``.

    :meth:`score` uses the model's own likelihood: the exact BGe posterior predictive density
    (multivariate Student-t ratios) for ``"marginal"``, and ``p(x | G, theta)`` of each particle
    for the joint presets.

    Examples
    --------
    A short run on a small data set with single-node interventions (the presets take 1000 steps
    with 20 particles; both are cut here to keep the example fast):

    >>> from skcausal_meta import DibsEstimator, make_scm_family
    >>> X, interventions, graphs = make_scm_family("id", n_datasets=1, n_nodes=4, n_samples=50,
    ...                                           random_state=0)
    >>> est = DibsEstimator(n_particles=4, n_steps=50, random_state=0)
    >>> est = est.fit(X[0], interventions=interventions[0])
    >>> posterior = est.predict_graph_posterior()
    >>> est.particles_.shape  # (n_particles, d, latent_dim, 2): the latent U and V
    (4, 4, 4, 2)
    >>> posterior.n_nodes, posterior.n_graphs <= 4  # at most one graph per particle
    (4, True)
    >>> round(float(posterior.weights.sum()), 6)
    1.0
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseCausalEstimator._parameter_constraints,
        "preset": [StrOptions(set(PRESETS))],
        "n_particles": [POSITIVE_INT, None],
        "n_steps": [POSITIVE_INT, None],
        "latent_dim": [POSITIVE_INT, None],
        "alpha_linear": [POSITIVE_FLOAT, None],
        "beta_linear": [NON_NEGATIVE_FLOAT, None],
        "tau": [POSITIVE_FLOAT, None],
        "n_grad_mc_samples": [POSITIVE_INT, None],
        "n_acyclicity_mc_samples": [POSITIVE_INT, None],
        "grad_estimator": [StrOptions({"score", "reparam"}), None],
        "kernel_bandwidth": [POSITIVE_FLOAT, None],
        "theta_bandwidth": [POSITIVE_FLOAT, None],
        "learning_rate": [POSITIVE_FLOAT, None],
        "obs_noise": [POSITIVE_FLOAT, None],
        "param_prior_std": [POSITIVE_FLOAT, None],
        "hidden_layers": [Widths(allow_empty=True), None],
        "graph_prior": [StrOptions(set(GRAPH_PRIORS))],
        "edges_per_node": [POSITIVE_FLOAT],
        "posterior": [StrOptions({"mixture", "empirical"})],
        "n_threads": [POSITIVE_INT, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        preset: Literal["marginal", "joint-linear", "joint-nonlinear"] = "marginal",
        *,
        n_particles: int | None = None,
        n_steps: int | None = None,
        latent_dim: int | None = None,
        alpha_linear: float | None = None,
        beta_linear: float | None = None,
        tau: float | None = None,
        n_grad_mc_samples: int | None = None,
        n_acyclicity_mc_samples: int | None = None,
        grad_estimator: Literal["score", "reparam"] | None = None,
        kernel_bandwidth: float | None = None,
        theta_bandwidth: float | None = None,
        learning_rate: float | None = None,
        obs_noise: float | None = None,
        param_prior_std: float | None = None,
        hidden_layers: tuple[int, ...] | None = None,
        graph_prior: Literal["er", "sf"] = "er",
        edges_per_node: float = 2.0,
        posterior: Literal["mixture", "empirical"] = "mixture",
        n_threads: int | None = None,
        standardize: bool = True,
        verbose: bool | int = False,
        device: str = "auto",
        random_state: RandomStateLike = None,
    ) -> None:
        self.preset = preset
        self.n_particles = n_particles
        self.n_steps = n_steps
        self.latent_dim = latent_dim
        self.alpha_linear = alpha_linear
        self.beta_linear = beta_linear
        self.tau = tau
        self.n_grad_mc_samples = n_grad_mc_samples
        self.n_acyclicity_mc_samples = n_acyclicity_mc_samples
        self.grad_estimator = grad_estimator
        self.kernel_bandwidth = kernel_bandwidth
        self.theta_bandwidth = theta_bandwidth
        self.learning_rate = learning_rate
        self.obs_noise = obs_noise
        self.param_prior_std = param_prior_std
        self.hidden_layers = hidden_layers
        self.graph_prior = graph_prior
        self.edges_per_node = edges_per_node
        self.posterior = posterior
        self.n_threads = n_threads
        self.standardize = standardize
        self.verbose = verbose
        self.device = device
        self.random_state = random_state

    def _model(self, cfg, X, mask, device, dtype=torch.float64):
        Xt = torch.as_tensor(X, dtype=dtype, device=device)
        mt = torch.as_tensor(mask, device=device)
        return make_likelihood_model(
            cfg["likelihood"], Xt, mt, obs_noise=cfg["obs_noise"],
            param_prior_std=cfg["param_prior_std"], hidden_layers=tuple(cfg["hidden_layers"]),
        )

    def _fit(self, X, mask):
        cfg = resolve_config(self.get_params(deep=False), X.shape[1])
        work = cfg["n_particles"] * cfg["n_grad_mc_samples"] * X.shape[1] ** 2
        with self._cpu_threads(work if cfg["likelihood"] == "bge" else work * X.shape[0]):
            self._run(X, mask, cfg)

    def _run(self, X, mask, cfg):
        d = X.shape[1]
        device = self._device()
        seconds = estimated_fit_seconds(cfg, d)
        if device.type == "cpu" and seconds > _LONG_FIT_SECONDS:
            warnings.warn(
                f"DiBS on d={d} nodes with n_particles={cfg['n_particles']}, n_steps={cfg['n_steps']} and "
                f"{cfg['n_grad_mc_samples']} + {cfg['n_acyclicity_mc_samples']} Monte Carlo graphs per step is "
                f"estimated to take about {seconds / 60:.0f} minutes on one CPU thread (longer on a busy machine); "
                "lower n_steps, n_particles or n_grad_mc_samples for a quicker, rougher fit, use a GPU, or pass "
                "verbose=True to follow its progress", UserWarning, stacklevel=4)
        generator = torch_generator(check_random_state(self.random_state), device)
        model = self._model(cfg, X, mask, device, _INFERENCE_DTYPE)
        shape = (cfg["n_particles"], d, cfg["latent_dim"], 2)
        Z = cfg["latent_prior_std"] * torch.randn(shape, generator=generator, dtype=_INFERENCE_DTYPE, device=device)
        theta = model.init_theta(cfg["n_particles"], generator)
        Z, theta = run_svgd(Z, theta, model, cfg, generator, cfg["n_steps"], bool(self.verbose))
        self.config_ = cfg
        self.particles_ = Z.cpu().numpy().astype(np.float64)
        self.theta_ = [p.cpu().numpy().astype(np.float64) for p in theta]
        with torch.no_grad():
            self.graphs_, self.sample_particle_, self.log_weights_ = particle_posterior(
                hard_graphs(Z), [p.double() for p in theta], self._model(cfg, X, mask, device), cfg, self.posterior)

    def _posterior(self, n_graphs, rng):
        posterior = GraphPosterior(self.graphs_, self.log_weights_)
        return posterior if n_graphs is None else GraphPosterior(posterior.sample(n_graphs, rng))

    def _log_likelihood(self, X, mask):
        device = self._device()
        model = self._model(self.config_, self._train_X_, self._train_mask_, device)
        theta = [torch.as_tensor(p[self.sample_particle_], device=device) for p in self.theta_]
        G = torch.as_tensor(self.graphs_, dtype=torch.float64, device=device)
        with torch.no_grad():
            log_lik = model.log_predictive(
                G, theta, torch.as_tensor(X, dtype=torch.float64, device=device), torch.as_tensor(mask, device=device)
            )
        return log_lik.cpu().numpy(), self.log_weights_

    def infer_mechanism_posterior(self) -> dict[str, Any]:
        """Mechanism parameters of the posterior samples (joint presets only).

        Returns
        -------
        dict
            ``graphs`` ``(S, d, d)``, ``log_weights`` ``(S,)`` and ``theta``: list of arrays
            whose first axis is aligned with ``graphs`` (``[W]`` for ``"joint-linear"``; the
            layer weights then biases for ``"joint-nonlinear"``).
        """
        if not self.theta_:
            raise NotImplementedError("the marginal (BGe) preset integrates the parameters out")
        return dict(
            graphs=self.graphs_,
            log_weights=self.log_weights_,
            theta=[p[self.sample_particle_] for p in self.theta_],
        )
