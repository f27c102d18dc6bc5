"""
A posterior over graphs, next to the true graph
===============================================

Fit :class:`~skcausal_meta.models.dibs.DibsEstimator` to one small data set with interventions,
then compare its edge marginals :math:`P(i \\to j \\mid \\mathcal{D})` with the true adjacency and
score the posterior with expected SHD and edge AUROC.
"""

import matplotlib.pyplot as plt

from skcausal_meta import make_scm_family
from skcausal_meta.metrics import e_shd, edge_auroc
from skcausal_meta.models.dibs import DibsEstimator

X, masks, graphs = make_scm_family("id", n_datasets=1, n_nodes=5, n_samples=150, n_interventional=50,
                                   random_state=1)
X, mask, G = X[0], masks[0], graphs[0]

est = DibsEstimator("marginal", n_particles=8, n_steps=200, device="cpu", random_state=0)
posterior = est.fit(X, interventions=mask).predict_graph_posterior()
print(f"{posterior.n_graphs} graph samples, {posterior.is_dag.mean():.0%} acyclic")
print(f"E-SHD = {e_shd(G, posterior):.2f}, edge AUROC = {edge_auroc(G, posterior):.2f}")

# %%
# Left: the truth (row ``i``, column ``j`` is the edge ``i -> j``). Right: the posterior's edge
# probabilities.
fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.6))
for ax, matrix, title in ((left, G, "true graph"), (right, posterior.edge_probs, "P(edge | data)")):
    image = ax.imshow(matrix, vmin=0, vmax=1, cmap="Blues")
    ax.set_title(title)
    ax.set_xlabel("child j")
    ax.set_ylabel("parent i")
fig.colorbar(image, ax=[left, right], shrink=0.8)
plt.show()
