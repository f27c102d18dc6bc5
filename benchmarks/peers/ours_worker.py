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
- ``train``: for each entry of ``runs`` (a seed, its batches and an output file), meta-trains
  :class:`~skcausal_meta.models.avici.AviciModel` (``model_kwargs``, torch seeded) with
  ``training.train_step`` and ``make_optimizer`` (our LAMB, constant ``lr``, clipping at
  ``grad_clip``, no weight decay) on the batches of ``train_compare.iter_batches``; before
  training and after each step in ``evals`` it writes the edge probabilities of every validation
  set (``make_model_input`` of the raw data, as ``AviciEstimator.fit`` does) to ``probs_out``.
- ``dibs_joint``: :class:`~skcausal_meta.DibsEstimator` with the ``"joint-nonlinear"`` preset
  (dibs-lib's ``JointDiBS`` defaults) on the raw data set in ``data`` (``standardize=False``, as
  dibs-lib does not z-score), ``particles`` particles and ``steps`` steps from ``random_state=seed``,
  after an untimed 2-step warm-up fit on the same data; the seconds per step are the whole timed
  ``fit`` (the final mixture weights included, about one step's work) divided by ``steps``.
  Returns every particle's graph and its DiBS+ mixture weight.
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
    from skcausal_meta.models.amortized import make_model_input

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


def train(runs, val, steps, evals, model_kwargs, lr, grad_clip):
    """Meta-train one network per entry of ``runs`` (``seed``, ``data_dir``, ``probs_out``)."""
    import torch

    from skcausal_meta.models.amortized import make_model_input

    torch.set_num_threads(1)
    with np.load(val) as v:
        inputs = [torch.from_numpy(make_model_input(X, M))[None] for X, M in zip(v["X"], v["M"])]
    return {"runs": [_train_one(inputs, steps, evals, model_kwargs, lr, grad_clip, **run) for run in runs]}


def _train_one(inputs, steps, evals, model_kwargs, lr, grad_clip, seed, data_dir, probs_out):
    import time

    import torch

    from skcausal_meta.models.avici import AviciModel
    from skcausal_meta.models.amortized.config import TrainConfig
    from skcausal_meta.models.amortized.loop import train_step
    from skcausal_meta.models.amortized.optim import make_optimizer
    from train_compare import iter_batches

    torch.manual_seed(seed)
    net = AviciModel(**model_kwargs)
    config = TrainConfig(steps=steps, optimizer="lamb", lr=lr, weight_decay=0.0, warmup_steps=0, decay="constant",
                         grad_clip=grad_clip, seed=seed, amp=False)
    optimizer = make_optimizer(net.parameters(), config)
    device = torch.device("cpu")
    eval_s = []

    def validation_probs():
        start = time.perf_counter()
        net.eval()
        with torch.no_grad():
            probs = np.stack([net.edge_probs(x)[0].numpy() for x in inputs])
        net.train()
        eval_s.append(time.perf_counter() - start)
        return probs

    probs, wall, cpu, losses = [validation_probs()], [], [], []
    for t, x, g in iter_batches(data_dir, steps):
        x, g = torch.from_numpy(x), torch.from_numpy(g)
        start, start_cpu = time.perf_counter(), time.process_time()
        stats = train_step(net, optimizer, x, g, t, config, device)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        losses.append(stats["bce"])
        if t + 1 in evals:
            probs.append(validation_probs())
    np.save(probs_out, np.stack(probs))
    return {"seed": seed, "n_params": int(sum(p.numel() for p in net.parameters())), "step_s": wall,
            "step_cpu_s": cpu, "loss": losses, "eval_s": eval_s}


def dibs_joint(data, particles, steps, seed):
    import time

    import torch

    from skcausal_meta import DibsEstimator

    torch.set_num_threads(1)
    X = np.load(data)["X"]

    def fit(n_steps):
        return DibsEstimator(preset="joint-nonlinear", n_particles=particles, n_steps=n_steps, standardize=False,
                             n_threads=1, device="cpu", random_state=seed).fit(X)

    fit(2)
    start, start_wall = time.process_time(), time.perf_counter()
    est = fit(steps)
    cpu, wall = time.process_time() - start, time.perf_counter() - start_wall
    return {"cpu_s_per_step": cpu / steps, "wall_s_per_step": wall / steps,
            "graphs": est.graphs_.astype(int).tolist(), "weights": np.exp(est.log_weights_).tolist()}


if __name__ == "__main__":
    worker_main({"simulate": simulate, "forward": forward, "train": train, "dibs_joint": dibs_joint})
