"""Worker run in the project's environment (``python ours_worker.py task.json result.json``), the
counterpart of ``avici_worker.py``, timed the same way.

Tasks (see :func:`_harness.worker_main`):

- ``simulate``: seconds per call of ``make_scm_family(family, n_datasets=1, ...)`` for the
  family of ``avici_domains.AVICI_DOMAINS`` that matches avici's ``domain`` (graph,
  mechanisms, noise and data set drawn anew per call, as ``avici.simulate_data`` does).
- ``forward``: :class:`~skcausal_meta.models.avici.AviciModel` with random weights (seeded torch
  initialisation), timed on the path ``AviciEstimator.fit`` takes: ``make_model_input``
  (z-scoring) then ``edge_probs`` under ``torch.no_grad``, on the data set in ``data``, after an
  untimed warm-up call (eager PyTorch compiles nothing).
"""

import numpy as np

from _harness import current_rss_mib, median_seconds, worker_main


def simulate(domain, d, n, n_interv, repeats, warmup):
    from avici_domains import AVICI_DOMAINS
    from skcausal_meta.datasets import make_scm_family

    family = AVICI_DOMAINS[domain]
    timed = median_seconds(
        lambda i: make_scm_family(family, n_datasets=1, n_nodes=d, n_samples=n, n_interventional=n_interv,
                                  random_state=1000 + i), repeats, warmup)
    return {"make_scm_family_s": timed["median_s"], "make_scm_family_cpu_s": timed["median_cpu_s"]}


def forward(data, model_kwargs, repeats):
    import torch

    from skcausal_meta.models.avici import AviciModel
    from skcausal_meta.models.training import make_model_input

    torch.set_num_threads(1)
    torch.manual_seed(0)
    X = np.load(data)["X"]
    net = AviciModel(**model_kwargs).eval()
    n_params = sum(p.numel() for p in net.parameters())
    rss_before = current_rss_mib()

    def call(i):
        with torch.no_grad():
            return net.edge_probs(torch.from_numpy(make_model_input(X, None))[None])[0].numpy()

    probs = []
    timed = median_seconds(lambda i: probs.append(call(i)), repeats, warmup=1)
    return {"n_params": int(n_params), "forward_s": timed["median_s"], "forward_cpu_s": timed["median_cpu_s"],
            "rss_before_mib": rss_before, "edge_prob_mean": float(probs[-1].mean())}


if __name__ == "__main__":
    worker_main({"simulate": simulate, "forward": forward})
