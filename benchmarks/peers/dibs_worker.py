"""Worker run inside the dibs-lib venv (``python dibs_worker.py task.json result.json``).

Tasks (see :func:`_harness.worker_main`):

- ``nonlinear_data``: one data set of dibs-lib's nonlinear Gaussian model
  (``dibs.target.make_nonlinear_gaussian_model``: Erdos-Renyi graph with 2 edges per node, one
  hidden layer of 5 ReLU units per node, weights and biases of standard deviation 1, noise
  variance 0.1), ``n`` observational rows drawn from ``PRNGKey(seed)``, written to ``out``
  (``.npz`` with ``X`` and the true graph ``G``).
- ``joint``: ``JointDiBS`` with its defaults on that model (the same network, prior and noise as
  the data's, Erdos-Renyi prior with 2 edges per node) on the data set in ``data``, ``particles``
  particles and ``steps`` SVGD steps from ``PRNGKey(seed)``. The package runs its compiled loop
  ``chunk`` steps at a time; the clocks are read after each chunk (the particles made ready
  first), so the seconds per step cover the chunks after the first one, and ``compile_cpu_s`` is
  the first chunk's CPU seconds less its steps at that rate (JIT compilation, mostly). Returns
  every particle's graph and its ``get_mixture`` log-probability.
"""

import time

import numpy as np

from _harness import worker_main

HIDDEN, OBS_NOISE, PARAM_STD, EDGES_PER_NODE = (5,), 0.1, 1.0, 2


def nonlinear_data(d, n, seed, out):
    import jax
    from dibs.target import make_nonlinear_gaussian_model

    data, _, _ = make_nonlinear_gaussian_model(key=jax.random.PRNGKey(seed), n_vars=d, graph_prior_str="er",
                                               obs_noise=OBS_NOISE, sig_param=PARAM_STD, hidden_layers=HIDDEN,
                                               n_observations=n)
    G = np.asarray(data.g).astype(np.int8)
    np.savez(out, X=np.asarray(data.x, dtype=np.float64), G=G)
    return {"n_edges": int(G.sum())}


def joint(data, particles, steps, seed, chunk):
    import jax
    import jax.numpy as jnp
    from dibs.inference import JointDiBS
    from dibs.models import DenseNonlinearGaussian
    from dibs.target import make_graph_model

    if steps % chunk or steps // chunk < 2:
        raise ValueError(f"steps ({steps}) must be a multiple of chunk ({chunk}), at least twice it")
    x = jnp.asarray(np.load(data)["X"], dtype=jnp.float32)
    d = x.shape[1]
    model = JointDiBS(x=x, graph_model=make_graph_model(n_vars=d, graph_prior_str="er", edges_per_node=EDGES_PER_NODE),
                      likelihood_model=DenseNonlinearGaussian(n_vars=d, hidden_layers=HIDDEN, obs_noise=OBS_NOISE,
                                                              sig_param=PARAM_STD))
    stamps = []

    def clock(zs, thetas, **_):
        jax.block_until_ready((zs, thetas))
        stamps.append((time.process_time(), time.perf_counter()))

    start = (time.process_time(), time.perf_counter())
    g, theta = model.sample(key=jax.random.PRNGKey(seed), n_particles=particles, steps=steps, callback=clock,
                            callback_every=chunk)
    timed_steps = steps - chunk
    cpu, wall = ((stamps[-1][i] - stamps[0][i]) / timed_steps for i in range(2))
    mixture = model.get_mixture(g, theta)
    return {"cpu_s_per_step": cpu, "wall_s_per_step": wall, "compile_cpu_s": stamps[0][0] - start[0] - chunk * cpu,
            "graphs": np.asarray(g).astype(int).tolist(), "logp": np.asarray(mixture.logp, dtype=float).tolist()}


if __name__ == "__main__":
    worker_main({"nonlinear_data": nonlinear_data, "joint": joint})
