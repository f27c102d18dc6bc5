"""The numpy side of the package (data, metrics, posteriors, baselines) imports without torch."""

import subprocess
import sys

BLOCK_TORCH = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked in this test")
sys.meta_path.insert(0, _Block())
"""


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK_TORCH + code], capture_output=True, text=True, timeout=120)


def test_metrics_posterior_and_baselines_import_and_work_without_torch():
    result = _run("""
import numpy as np
import skcausal_meta.metrics, skcausal_meta.models.posterior
from skcausal_meta import GraphPosterior, make_scm_family
from skcausal_meta.metrics import e_shd, edge_auroc
from skcausal_meta.models.baselines import EmptyGraphEstimator, RandomDAGEstimator
X, _, graphs = make_scm_family("id", n_datasets=1, n_nodes=5, n_samples=50, random_state=0)
posterior = RandomDAGEstimator(random_state=0).fit(X[0]).predict_graph_posterior()
assert isinstance(posterior, GraphPosterior)
print(e_shd(graphs[0], posterior), edge_auroc(graphs[0], posterior))
assert "torch" not in sys.modules
""")
    assert result.returncode == 0, result.stderr


def test_the_block_is_real_torch_models_fail_without_torch():
    result = _run("from skcausal_meta import AviciEstimator")
    assert result.returncode != 0 and "torch is blocked" in result.stderr
