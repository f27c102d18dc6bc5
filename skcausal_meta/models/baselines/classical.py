"""PC and GES (through causal-learn) as point estimates and as bootstrap posteriors.

Both return a CPDAG; :mod:`.cpdag` turns each one into random DAGs. With ``n_bootstrap=0`` the
posterior holds ``n_extensions`` random consistent extensions of the CPDAG fitted on all rows (a
point estimate of the equivalence class). With ``n_bootstrap=B`` the rows are resampled with
replacement ``B`` times, the algorithm is refitted on each resample, and the ``B *
n_extensions`` sampled DAGs form the posterior with equal weights: the "bootstrap PC/GES"
baselines of the Bayesian structure-learning literature (Friedman, Goldszmidt & Wyner 1999).

causal-learn is an optional dependency (``pip install skcausal-meta[baselines]``); it is
imported when an estimator is fitted.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np
from sklearn.utils._param_validation import StrOptions
from tqdm.auto import tqdm

from ..._validation import check_random_state
from .._constraints import NON_NEGATIVE_INT, OPEN_UNIT, POSITIVE_INT
from ._empirical import EmpiricalGraphEstimator
from .cpdag import pdag_from_causallearn, sample_consistent_extension

if TYPE_CHECKING:
    from ..._typing import RandomStateLike

__all__ = ["PCEstimator", "GESEstimator"]

_EXTRA_HINT = "pip install skcausal-meta[baselines]"
_PC_TESTS = ("fisherz", "chisq", "gsq", "kci")
_GES_SCORES = ("local_score_BIC", "local_score_BIC_from_cov")


def _causallearn(module: str, owner: str):
    """Import ``causallearn.<module>``, or raise an ImportError that names the extra to install."""
    try:
        return importlib.import_module(f"causallearn.{module}")
    except ImportError as exc:
        raise ImportError(f"{owner} needs the optional dependency causal-learn: {_EXTRA_HINT}") from exc


class _CausalLearnEstimator(EmpiricalGraphEstimator):
    """Bootstrap loop and CPDAG-to-DAG sampling shared by PC and GES.

    Subclasses implement ``_learn_pdag(X) -> causal-learn endpoint matrix (d, d)``.

    Interventions are not used for structure learning: every row is pooled as an observation
    (the mask still enters :meth:`score` through the plug-in likelihood). Pass only
    observational rows to reproduce the purely observational setting.
    """

    _parameter_constraints: ClassVar[dict] = {
        **EmpiricalGraphEstimator._parameter_constraints,
        "n_bootstrap": [NON_NEGATIVE_INT],
        "n_extensions": [POSITIVE_INT],
        "verbose": ["verbose"],
    }

    def _learn_pdag(self, X) -> np.ndarray:
        raise NotImplementedError

    def _check_data(self, X):
        """Validate the data for the algorithm (before any work)."""

    def _fit(self, X, mask):
        n_bootstrap, n_extensions = int(self.n_bootstrap), int(self.n_extensions)
        self._check_data(X)
        rng = check_random_state(self.random_state)
        fits = []
        rounds = tqdm(range(max(n_bootstrap, 1)), desc=type(self).__name__.removesuffix("Estimator"),
                      unit="fit", disable=not self.verbose or not n_bootstrap)
        for _ in rounds:
            rows = rng.integers(X.shape[0], size=X.shape[0]) if n_bootstrap else np.arange(X.shape[0])
            fits.append(pdag_from_causallearn(self._learn_pdag(X[rows])))
        self.cpdag_directed_ = np.stack([D for D, _ in fits]).astype(np.int8)
        self.cpdag_undirected_ = np.stack([U for _, U in fits]).astype(np.int8)
        self.graphs_ = np.stack(
            [sample_consistent_extension(D, U, rng) for D, U in fits for _ in range(n_extensions)]
        )


class PCEstimator(_CausalLearnEstimator):
    """The PC algorithm (Spirtes & Glymour 1991) from causal-learn, with bootstrap posterior.

    Parameters
    ----------
    alpha : float, default=0.05
        Significance level of the conditional-independence tests, in (0, 1).
    indep_test : {"fisherz", "chisq", "gsq", "kci"}, default="fisherz"
        causal-learn's conditional-independence test (Fisher's z for Gaussian data).
    n_bootstrap : int, default=0
        0: one fit on all rows (point estimate). ``B > 0``: ``B`` fits on row resamples drawn
        with replacement, forming an equally weighted posterior.
    n_extensions : int, default=10
        Random consistent extensions drawn per fitted CPDAG (see
        ``skcausal_meta.models.baselines.cpdag``), so undirected edges show up as edge
        marginals strictly between 0 and 1.
    standardize : bool, default=True
        z-score the columns first (see :class:`~skcausal_meta.models.base.BaseCausalEstimator`); Fisher's z is invariant
        to it.
    verbose : bool or int, default=False
        Show a progress bar over the bootstrap fits (with ``n_bootstrap > 0``).
    device : str, default="auto"
        Accepted for a uniform API; PC runs on the CPU in causal-learn.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the resampling and the extensions.

    Attributes
    ----------
    cpdag_directed_, cpdag_undirected_ : ndarray of shape (max(B, 1), d, d), dtype int8
        Directed edges (``[b, i, j]`` for ``i -> j``) and symmetric undirected edges of each
        fitted graph (bidirected conflict edges count as undirected).
    graphs_ : ndarray of shape (max(B, 1) * n_extensions, d, d)
        The posterior's DAGs.

    Notes
    -----
    Interventions are ignored for structure learning (all rows are pooled as observations).

    Examples
    --------
    Needs causal-learn (the ``baselines`` extra). On observational data, one fit gives a CPDAG;
    its undirected edges are oriented at random in ``n_extensions`` DAGs:

    >>> from skcausal_meta import PCEstimator, make_scm_family
    >>> X, _, graphs = make_scm_family("id", n_datasets=1, n_nodes=4, n_samples=100,
    ...                                n_interventional=0, random_state=0)
    >>> est = PCEstimator(alpha=0.05, random_state=0).fit(X[0])
    >>> est.cpdag_directed_.shape, est.graphs_.shape
    ((1, 4, 4), (10, 4, 4))
    >>> bool(est.predict_graph_posterior().is_dag.all())
    True

    With ``n_bootstrap=3`` the posterior pools three fits on resampled rows:

    >>> PCEstimator(n_bootstrap=3, n_extensions=2, random_state=0).fit(X[0]).graphs_.shape
    (6, 4, 4)
    """

    _parameter_constraints: ClassVar[dict] = {
        **_CausalLearnEstimator._parameter_constraints,
        "alpha": [OPEN_UNIT],
        "indep_test": [StrOptions(set(_PC_TESTS))],
    }

    def __init__(
        self,
        alpha: float = 0.05,
        indep_test: Literal["fisherz", "chisq", "gsq", "kci"] = "fisherz",
        *,
        n_bootstrap: int = 0,
        n_extensions: int = 10,
        standardize: bool = True,
        verbose: bool | int = False,
        device: str = "auto",
        random_state: RandomStateLike = None,
    ) -> None:
        self.alpha = alpha
        self.indep_test = indep_test
        self.n_bootstrap = n_bootstrap
        self.n_extensions = n_extensions
        self.standardize = standardize
        self.verbose = verbose
        self.device = device
        self.random_state = random_state

    def _check_data(self, X):
        """Refuse data the chosen test cannot judge (causal-learn would fail obscurely or find
        nothing): too few rows for the conditioning sets, or continuous data for a test of
        discrete data."""
        n, d = X.shape
        if n < d + 1:
            raise ValueError(f"n_samples={n} is too few for PCEstimator on d={d} nodes: its tests condition on up to "
                             f"d - 2 = {d - 2} nodes, which needs at least d + 1 = {d + 1} rows")
        if self.indep_test in ("chisq", "gsq"):
            levels = np.array([np.unique(column).size for column in X.T])
            j = int(np.argmax(levels))
            if 2 * levels[j] > n:
                raise ValueError(
                    f"indep_test={self.indep_test!r} tests discrete data (category codes), but X column {j} has "
                    f"{levels[j]} distinct values in {n} rows, fewer than 2 rows per category, so no dependence "
                    "can be found; use indep_test='fisherz' or 'kci' for continuous data")

    def _learn_pdag(self, X):
        pc = _causallearn("search.ConstraintBased.PC", type(self).__name__).pc
        return pc(X, alpha=float(self.alpha), indep_test=self.indep_test, show_progress=False).G.graph


class GESEstimator(_CausalLearnEstimator):
    """Greedy equivalence search (Chickering 2002) from causal-learn, with bootstrap posterior.

    Parameters
    ----------
    score_func : {"local_score_BIC", "local_score_BIC_from_cov"}, default="local_score_BIC"
        causal-learn's Gaussian BIC score, computed from the data or from its covariance.
    max_parents : int, default=None
        Largest number of parents a node may have; ``None`` for no limit.
    n_bootstrap : int, default=0
        0: one fit on all rows (point estimate). ``B > 0``: ``B`` fits on row resamples drawn
        with replacement, forming an equally weighted posterior.
    n_extensions : int, default=10
        Random consistent extensions drawn per fitted CPDAG.
    standardize : bool, default=True
        z-score the columns first (see :class:`~skcausal_meta.models.base.BaseCausalEstimator`).
    verbose : bool or int, default=False
        Show a progress bar over the bootstrap fits (with ``n_bootstrap > 0``).
    device : str, default="auto"
        Accepted for a uniform API; GES runs on the CPU in causal-learn.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the resampling and the extensions.

    Attributes
    ----------
    cpdag_directed_, cpdag_undirected_ : ndarray of shape (max(B, 1), d, d), dtype int8
    graphs_ : ndarray of shape (max(B, 1) * n_extensions, d, d)

    Notes
    -----
    Interventions are ignored for structure learning (all rows are pooled as observations).

    Examples
    --------
    Needs causal-learn (the ``baselines`` extra):

    >>> from skcausal_meta import GESEstimator, make_scm_family
    >>> X, _, graphs = make_scm_family("id", n_datasets=1, n_nodes=4, n_samples=100,
    ...                                n_interventional=0, random_state=0)
    >>> est = GESEstimator(max_parents=2, random_state=0).fit(X[0])
    >>> est.cpdag_directed_.shape, est.graphs_.shape
    ((1, 4, 4), (10, 4, 4))
    >>> bool(est.predict_graph_posterior().is_dag.all())
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        **_CausalLearnEstimator._parameter_constraints,
        "score_func": [StrOptions(set(_GES_SCORES))],
        "max_parents": [POSITIVE_INT, None],
    }

    def __init__(
        self,
        score_func: Literal["local_score_BIC", "local_score_BIC_from_cov"] = "local_score_BIC",
        max_parents: int | None = None,
        *,
        n_bootstrap: int = 0,
        n_extensions: int = 10,
        standardize: bool = True,
        verbose: bool | int = False,
        device: str = "auto",
        random_state: RandomStateLike = None,
    ) -> None:
        self.score_func = score_func
        self.max_parents = max_parents
        self.n_bootstrap = n_bootstrap
        self.n_extensions = n_extensions
        self.standardize = standardize
        self.verbose = verbose
        self.device = device
        self.random_state = random_state

    def _learn_pdag(self, X):
        ges = _causallearn("search.ScoreBased.GES", type(self).__name__).ges
        return ges(X, score_func=self.score_func, maxP=self.max_parents)["G"].graph
