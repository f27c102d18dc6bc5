"""Worker run inside the avici venv (``python avici_worker.py task.json result.json``).

Tasks (see :func:`_harness.worker_main`):

- ``simulate``: seconds per call of ``avici.simulate_data(d, n, n_interv=..., seed=i, domain=...)``
  (the public helper, which re-reads the domain's YAML on every call), and of the generator it
  wraps, ``Sampler.generate_data`` on a domain spec parsed once (``core``).
- ``forward``: the package's default network ``BaseModel`` with random weights
  (``InferenceModel.net.init``) run through its own inference path
  ``AVICIModel(...)(x, shard_if_possible=False)`` (z-scoring included), on the data set in
  ``data`` (``.npz`` with ``X``). ``compile_s`` is the ahead-of-time trace and compilation of that
  jitted path for this input shape; the timed calls follow an untimed warm-up call (which
  compiles again: jit does not reuse an ahead-of-time compilation).
"""

import time

import numpy as np

from _harness import current_rss_mib, median_seconds, worker_main


def simulate(domain, d, n, n_interv, repeats, warmup):
    import avici
    from avici.buffer import Sampler
    from avici.definitions import PROJECT_DIR
    from avici.utils.parse import load_data_config

    public = median_seconds(
        lambda i: avici.simulate_data(d, n, n_interv=n_interv, seed=1000 + i, domain=domain), repeats, warmup)
    path = PROJECT_DIR / f"avici/config/examples/{domain}.yaml"
    tree = load_data_config(path, force_kwargs=dict(n_observations_obs=n, n_observations_int=n_interv),
                            abspath=True, load_modules=True)["data"]
    spec = tree[next(iter(tree))]
    core = median_seconds(
        lambda i: Sampler.generate_data(np.random.default_rng(1000 + i), n_vars=d, spec_list=spec), repeats, warmup)
    return {"simulate_data_s": public["median_s"], "simulate_data_cpu_s": public["median_cpu_s"],
            "core_s": core["median_s"]}


def forward(data, model_kwargs, repeats):
    import jax
    import jax.numpy as jnp
    from avici.model import BaseModel, InferenceModel
    from avici.pretrain import AVICIModel

    X = np.load(data)["X"].astype(np.float32)
    model = InferenceModel(model_class=BaseModel, model_kwargs=dict(model_kwargs))
    params = model.net.init(jax.random.PRNGKey(0), jnp.zeros((8, X.shape[1], 2)), False)
    n_params = int(sum(leaf.size for leaf in jax.tree_util.tree_leaves(params)))
    net = AVICIModel(params=params, model=model, expects_counts=False)
    rss_before = current_rss_mib()
    start = time.perf_counter()
    AVICIModel.__call_main__.lower(net, jax.device_put(X), None, None).compile()
    compile_s = time.perf_counter() - start
    probs = []
    timed = median_seconds(lambda i: probs.append(net(X, shard_if_possible=False)), repeats, warmup=1)
    return {"n_params": n_params, "forward_s": timed["median_s"], "forward_cpu_s": timed["median_cpu_s"],
            "compile_s": compile_s, "rss_before_mib": rss_before, "edge_prob_mean": float(np.mean(probs[-1]))}


if __name__ == "__main__":
    worker_main({"simulate": simulate, "forward": forward})
