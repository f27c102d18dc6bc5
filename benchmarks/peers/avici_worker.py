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
- ``train``: for each entry of ``runs`` (a seed, its batches and an output file), meta-trains
  ``BaseModel`` (``model_kwargs``, initialised from ``PRNGKey(seed)``) through the package's own
  training loss ``InferenceModel.loss(params, dual, key, batch, t, is_training=True)`` (with the
  authors' acyclicity term ``penalty * dual`` at ``dual = 0``), optimised as the authors'
  training script does, ``optax.chain(clip_by_global_norm(grad_clip), lamb(lr))``, on the
  batches of ``train_compare.iter_batches`` (passed as ``x_obs`` with an empty ``x_int``, so the
  loss's own row shuffling and z-scoring see every row). The jitted step is compiled ahead of
  time for every batch shape of all runs before the first one (``compile_s``). Before training
  and after each step in ``evals`` the edge probabilities of every validation set go to the
  run's ``probs_out``, computed by the package's test-time path
  ``infer_edge_probs(params, jax_get_x(raw data))``; ``standardize_max_diff`` is the largest
  difference between ``jax_get_x``'s z-scoring and ours (``Z`` in the validation file).
"""

import time
from pathlib import Path

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


def train(runs, val, steps, evals, model_kwargs, lr, grad_clip):
    """Meta-train one network per entry of ``runs`` (``seed``, ``data_dir``, ``probs_out``); the
    jitted step is compiled once per batch shape for all of them."""
    import jax
    import jax.numpy as jnp
    import optax
    from avici.model import BaseModel, InferenceModel
    from avici.utils.data_jax import jax_get_x

    from train_compare import iter_batches

    model = InferenceModel(model_class=BaseModel, model_kwargs=dict(model_kwargs), train_p_obs_only=0.0,
                           acyclicity=lambda penalty, t, dual: penalty * dual, acyclicity_pow_iters=10,
                           mask_diag=True)
    optimizer = optax.chain(optax.clip_by_global_norm(grad_clip), optax.lamb(lambda _: jnp.array(lr)))
    dual = jnp.array(0.0)

    def as_batch(x, g=None):
        batch = {"x_obs": x, "x_int": jnp.zeros((x.shape[0], 0, *x.shape[2:]), x.dtype),
                 "is_count_data": jnp.zeros(x.shape[0], dtype=bool)}
        return batch if g is None else {**batch, "g": g}

    def update(params, opt_state, step_key, x, g, t):
        (_, aux), grads = jax.value_and_grad(model.loss, has_aux=True)(params, dual, step_key, as_batch(x, g), t, True)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, aux["loss_raw"]

    @jax.jit
    def edge_probs(params, x_raw):
        return model.infer_edge_probs(params, jax_get_x(as_batch(x_raw)))[0]

    with np.load(val) as v:
        raw = [jnp.asarray(np.stack([X, M.astype(np.float32)], axis=-1)[None]) for X, M in zip(v["X"], v["M"])]
        std_diff = max(float(np.abs(np.asarray(jax_get_x(as_batch(r)))[0] - z).max()) for r, z in zip(raw, v["Z"]))

    shapes, batch_size = set(), None
    for run in runs:
        with np.load(Path(run["data_dir"]) / "shapes.npz") as s:
            shapes |= {tuple(int(k) for k in shape) for shape in s["shapes"]}
            batch_size = int(s["batch_size"])
    key = jax.random.PRNGKey(0)
    params = model.net.init(key, jnp.zeros((1, 10, 5, 2)), True)
    opt_state = optimizer.init(params)
    start = time.perf_counter()
    jitted = jax.jit(update)
    compiled = {(n, d): jitted.lower(params, opt_state, key, jnp.zeros((batch_size, n, d, 2)),
                                     jnp.zeros((batch_size, d, d)), jnp.array(0)).compile() for n, d in sorted(shapes)}
    edge_probs(params, raw[0]).block_until_ready()
    compile_s = time.perf_counter() - start

    def train_one(seed, data_dir, probs_out):
        key, init_key = jax.random.split(jax.random.PRNGKey(seed))
        params = model.net.init(init_key, jnp.zeros((1, 10, 5, 2)), True)
        opt_state = optimizer.init(params)
        eval_s = []

        def validation_probs():
            start = time.perf_counter()
            probs = np.stack([np.asarray(edge_probs(params, r)) for r in raw])
            eval_s.append(time.perf_counter() - start)
            return probs

        probs, wall, cpu, losses = [validation_probs()], [], [], []
        for t, x, g in iter_batches(data_dir, steps):
            key, step_key = jax.random.split(key)
            x, g = jax.device_put(x), jax.device_put(g)
            start, start_cpu = time.perf_counter(), time.process_time()
            params, opt_state, loss = compiled[x.shape[1:3]](params, opt_state, step_key, x, g, jnp.array(t))
            loss = float(loss)  # waits for the step
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            losses.append(loss)
            if t + 1 in evals:
                probs.append(validation_probs())
        np.save(probs_out, np.stack(probs))
        n_params = int(sum(leaf.size for leaf in jax.tree_util.tree_leaves(params)))
        return {"seed": seed, "n_params": n_params, "step_s": wall, "step_cpu_s": cpu, "loss": losses,
                "eval_s": eval_s}

    return {"runs": [train_one(**run) for run in runs], "compile_s": compile_s, "n_shapes": len(shapes),
            "standardize_max_diff": std_diff}


if __name__ == "__main__":
    worker_main({"simulate": simulate, "forward": forward, "train": train})
