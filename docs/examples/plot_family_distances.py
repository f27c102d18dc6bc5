"""
How far do the out-of-distribution families shift?
===================================================

Every out-of-distribution family changes one or more aspects of the ``id`` family (the prior the
amortized models are trained on). :func:`~skcausal_meta.datasets.distance_matrix` measures each
shift: graph-level distances (degree distribution, density, spectral radius), the gap in
nonlinearity of the mechanisms, noise shape (kurtosis, skewness) and an MMD between data-set
statistics. Here we compare ``id`` with one family per shift axis, on small samples of data sets
so that the example runs in seconds.
"""

import matplotlib.pyplot as plt
import numpy as np

from skcausal_meta.datasets import distance_matrix

families = ["id", "ood_dense", "ood_graph_ws", "ood_mech_square", "ood_noise_student"]
distances = distance_matrix(families, reference="id", n_datasets=6, n_nodes=8, n_samples=200,
                            random_state=0)
print(distances.round(3))

# %%
# Each component on its own scale: one panel per distance, one bar per family. ``id`` against
# itself is close to zero (sampling error only; ``mmd`` is an unbiased estimate of the squared
# MMD, so it can dip below zero); each family stands out on the axis it shifts.
components = ["degree_w1", "density", "nonlinearity", "kurtosis", "mmd"]
fig, axes = plt.subplots(1, len(components), figsize=(13, 3.2), sharey=True)
positions = np.arange(len(families))
for ax, component in zip(axes, components):
    ax.barh(positions, distances.loc[families, component], color="tab:blue")
    ax.set_title(component)
    ax.set_yticks(positions, families)
    ax.invert_yaxis()
axes[0].set_ylabel("family")
fig.suptitle("distance of each family from id")
fig.tight_layout()
plt.show()
