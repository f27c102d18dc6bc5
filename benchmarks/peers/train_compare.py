"""Meta-training, step for step: our AVICI against the reference avici 1.0.7 on the same batches.

    python benchmarks/peers/train_compare.py [--steps 1500] [--seeds 0 1] [--eval-every 250]
        [--lr 4.41e-4] [--json FILE] [--quick]

Both sides train a network of the same size (``--dim``, ``--layers``, ``--heads``; the shipped
``avici_id`` size by default) with the AVICI authors' optimiser recipe, on identical batches, and
are scored on the same held-out data sets by one function:

* **Data.** The training batches come from our ``DatasetStream`` on the family
  ``benchmarks/families/id_linear_er.yml`` (batch 8, d uniform in [5, 20], 200 observational rows;
  ``--p-obs-only 0.5`` adds 50 interventional rows in half the steps, the shipped command's
  setting, at twice the reference's compilations). They are drawn
  once per seed and written to ``.npz`` chunks (already z-scored per variable, the intervention
  flag in channel 1, as ``make_model_input`` builds them) that both workers read in the same
  order. The validation sets are ``--n-val`` data sets of the same family at d = 20 with 1000
  observational rows, given raw to both sides, each of which standardises them its own way
  (ours ``make_model_input``, the reference ``jax_get_x``; the reference worker reports the
  largest difference of the two); their graphs are excluded from the training stream.
* **Optimiser** (the authors' training script, ``scripts/train.py`` of github.com/larslorch/avici,
  with the paper's ``experiments/linear-base/methods.yaml``): global-norm clipping at 1 then LAMB
  with a constant learning rate (their schedule divides it by 10 only at 200k steps), no warm-up,
  no weight decay. Their rate is ``3e-5 * sqrt(effective batch)``, 4.41e-4 in the paper's 8-GPU
  setting (216 data sets per step at the smallest d), the default here; ``--lr`` changes it. The
  reference side runs ``optax.chain(clip_by_global_norm, lamb)`` around ``InferenceModel.loss``;
  ours runs ``training.train_step`` with ``make_optimizer`` (our ``Lamb``) at the same settings.
  The acyclicity dual stays 0 on both sides, so both minimise the edge-wise BCE (the authors'
  dual step ramps from 0 over 50,000 steps: within 1,500 steps it would reach about 1e-5).
* **Network.** Ours ``AviciModel(dim, n_layers, n_heads)`` (heads of ``dim / n_heads``),
  theirs ``BaseModel(layers=n_layers, dim, num_heads, key_size=dim / n_heads)``, both without
  dropout and with the log-temperature initialised at ``--temperature-init`` (2.0, the authors'
  script's value; ``BaseModel``'s own default is 0). The table prints both parameter counts.

Each side runs in its own subprocess with one CPU thread, one after the other (see
``_harness.py``). A step's time is the optimizer step alone (loss, gradient, update), wall clock
and process CPU seconds; the reference's steps run ahead-of-time compiled per batch shape, and
the compilation is reported apart. Validation (mean edge AUROC, ``skcausal_meta.metrics``) runs
at step 0 and every ``--eval-every`` steps, outside the step timing.

This module imports only the standard library and numpy at import time: both workers read the
batches through :func:`iter_batches`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

from _harness import HERE, peer_python, run_worker

FAMILY_FILE = HERE.parent / "families" / "id_linear_er.yml"
CHUNK = 100  # training steps per .npz file
VAL_SEED = 20261126


def iter_batches(data_dir, steps):
    """Yield ``(step, x, graphs)`` for steps ``0 .. steps - 1`` from the chunks in ``data_dir``:
    ``x`` float32 ``[B, n, d, 2]`` (model input), ``graphs`` float32 ``[B, d, d]``."""
    data_dir = Path(data_dir)
    for start in range(0, steps, CHUNK):
        with np.load(data_dir / f"train_{start // CHUNK:04d}.npz") as chunk:
            for t in range(start, min(start + CHUNK, steps)):
                yield t, chunk[f"x{t}"], chunk[f"g{t}"]


def eval_steps(steps, every):
    """Steps after which both sides score the validation sets (0 = before training)."""
    return sorted({0, steps, *range(every, steps, every)})


def write_batches(data_dir, family, steps, seed, p_obs_only, exclude_hashes, log):
    """Draw ``steps`` training batches of our ``DatasetStream`` (seed ``seed``) into ``data_dir``,
    with the ``(n, d)`` shape of every step in ``shapes.npz``; returns those shapes."""
    from skcausal_meta.datasets import canonical_graph_hash
    from skcausal_meta.models.amortized.config import TrainConfig
    from skcausal_meta.models.amortized.stream import DatasetStream

    config = TrainConfig(steps=steps, batch_size=8, n_nodes=[5, 20], n_samples=200, n_interventional=50,
                         p_observational_only=p_obs_only, seed=seed)
    stream = DatasetStream(family, config, 0, exclude_hashes, canonical_graph_hash)
    shapes = []
    for start in range(0, steps, CHUNK):
        arrays = {}
        for t in range(start, min(start + CHUNK, steps)):
            x, g = stream[t]
            arrays[f"x{t}"], arrays[f"g{t}"] = x.numpy(), g.numpy()
            shapes.append(list(x.shape[1:3]))
        np.savez(Path(data_dir) / f"train_{start // CHUNK:04d}.npz", **arrays)
    np.savez(Path(data_dir) / "shapes.npz", shapes=np.array(shapes), batch_size=config.batch_size)
    print(f"seed {seed}: wrote {steps} batches of {config.batch_size} ({len({tuple(s) for s in shapes})} shapes)",
          file=log)
    return shapes


def write_validation(path, family, n_val):
    """The held-out sets (raw values, masks, graphs) and the canonical hashes of their graphs."""
    from skcausal_meta.datasets import canonical_graph_hash, make_scm_family
    from skcausal_meta.models.amortized import make_model_input

    X, masks, graphs = make_scm_family(family, n_datasets=n_val, n_nodes=20, n_samples=1000, n_interventional=0,
                                       random_state=VAL_SEED)
    np.savez(path, X=X.astype(np.float32), M=masks, G=graphs, Z=make_model_input(X, masks))
    return graphs, {canonical_graph_hash(g) for g in graphs}


def mean_auroc(probs, graphs):
    """Mean edge AUROC over the validation sets, for each evaluation: ``probs`` ``[E, S, d, d]``."""
    from skcausal_meta.metrics import edge_auroc

    return [float(np.nanmean([edge_auroc(g, p) for g, p in zip(graphs, step_probs)])) for step_probs in probs]


def run_all(args, graphs, tmp, log):
    """Train both sides on the batches of every seed (ours first, then the reference); returns
    one record per seed with both sides' curves and timings, and each side's worker extras."""
    runs = {name: [] for name in ("ours", "avici")}
    shapes = {}
    for seed in args.seeds:
        data_dir = Path(tmp, f"seed{seed}")
        data_dir.mkdir()
        shapes[seed] = write_batches(data_dir, args.family, args.steps, seed, args.p_obs_only, args.exclude, log)
        for name in runs:
            runs[name].append(dict(seed=seed, data_dir=str(data_dir), probs_out=str(Path(tmp, f"{name}_{seed}.npy"))))
    evals = eval_steps(args.steps, args.eval_every)
    common = dict(kind="train", val=str(Path(tmp, "val.npz")), steps=args.steps, evals=evals, lr=args.lr,
                  grad_clip=1.0)
    nets = {"ours": dict(dim=args.dim, n_layers=args.layers, n_heads=args.heads, widening_factor=4, dropout=0.0,
                         temperature_init=args.temperature_init, dual_lr=0.0),
            "avici": dict(dim=args.dim, layers=args.layers, num_heads=args.heads, key_size=args.dim // args.heads,
                          widening_factor=4, dropout=0.0, cosine_temp_init=args.temperature_init)}
    workers = {"ours": (sys.executable, "ours_worker.py"), "avici": (peer_python("avici"), "avici_worker.py")}
    results, extras = {}, {}
    for name, (python, script) in workers.items():
        result = run_worker(python, script, dict(common, runs=runs[name], model_kwargs=nets[name]))
        for run, spec in zip(result.pop("runs"), runs[name]):
            run["auroc"] = mean_auroc(np.load(spec["probs_out"]), graphs)
            results[name, run["seed"]] = run
            print(f"seed {run['seed']} {name}: AUROC {' '.join('%.3f' % a for a in run['auroc'])}, "
                  f"{np.median(run['step_s']):.3f} s/step", file=log)
        extras[name] = dict(result, model_kwargs=nets[name])
    records = [dict(seed=seed, evals=evals, shapes=shapes[seed], ours=results["ours", seed],
                    avici=results["avici", seed]) for seed in args.seeds]
    return records, extras


def summary_rows(runs):
    """One row per evaluation step: AUROC of both sides, mean over seeds and per seed."""
    rows = []
    for i, step in enumerate(runs[0]["evals"]):
        ours = [r["ours"]["auroc"][i] for r in runs]
        theirs = [r["avici"]["auroc"][i] for r in runs]
        rows.append(dict(step=step, ours=ours, avici=theirs))
    return rows


def format_report(runs) -> str:
    """The AUROC table and the timing table (markdown)."""
    seeds = [r["seed"] for r in runs]
    per_seed = " | ".join(f"seed {s} ours / ref" for s in seeds)
    lines = [f"| step | ours AUROC (mean) | reference AUROC (mean) | ours - ref | {per_seed} |",
             "|--:|--:|--:|--:|" + "--:|" * len(seeds)]
    for row in summary_rows(runs):
        o, t = np.mean(row["ours"]), np.mean(row["avici"])
        cells = " | ".join(f"{a:.3f} / {b:.3f}" for a, b in zip(row["ours"], row["avici"]))
        lines.append(f"| {row['step']} | {o:.3f} | {t:.3f} | {o - t:+.3f} | {cells} |")
    lines += ["", "| seed | side | parameters | s / step (median) | CPU s / step | ours / ref (wall) | "
                  "ours / ref (CPU) | mean BCE, last 100 steps |",
              "|--:|---|--:|--:|--:|--:|--:|--:|"]
    for r in runs:
        ratio = np.median(r["ours"]["step_s"]) / np.median(r["avici"]["step_s"])
        cpu_ratio = np.median(r["ours"]["step_cpu_s"]) / np.median(r["avici"]["step_cpu_s"])
        for name in ("ours", "avici"):
            side = r[name]
            lines.append(f"| {r['seed']} | {name} | {side['n_params']:,} | {np.median(side['step_s']):.3f} | "
                         f"{np.median(side['step_cpu_s']):.3f} | {ratio:.2f} | {cpu_ratio:.2f} | "
                         f"{np.mean(side['loss'][-100:]):.4f} |")
    return "\n".join(lines)


def format_loss_table(runs, window) -> str:
    """Mean training BCE per window of steps, both sides and the paired difference (markdown).

    Every batch is new to both networks when its loss is computed (before the update), so the
    step losses are an online held-out loss on the training distribution, and the two sides'
    losses on the same batch pair up."""
    steps = len(runs[0]["ours"]["loss"])
    lines = ["| steps | ours BCE (mean over seeds) | reference BCE | ours - ref (paired, mean) | per seed ours - ref |",
             "|---|--:|--:|--:|---|"]
    for start in range(0, steps, window):
        stop = min(start + window, steps)
        ours = [np.mean(r["ours"]["loss"][start:stop]) for r in runs]
        theirs = [np.mean(r["avici"]["loss"][start:stop]) for r in runs]
        diffs = [o - t for o, t in zip(ours, theirs)]
        lines.append(f"| {start + 1}-{stop} | {np.mean(ours):.4f} | {np.mean(theirs):.4f} | {np.mean(diffs):+.4f} | "
                     + ", ".join(f"{d:+.4f}" for d in diffs) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--n-val", type=int, default=24, help="held-out data sets (d = 20, n = 1000)")
    parser.add_argument("--lr", type=float, default=3e-5 * 216 ** 0.5, help="constant LAMB learning rate")
    parser.add_argument("--loss-window", type=int, default=50, help="steps per row of the training-loss table")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--temperature-init", type=float, default=2.0)
    parser.add_argument("--p-obs-only", type=float, default=1.0,
                        help="share of steps without the 50 interventional rows (each row count doubles the "
                             "reference's compilations)")
    parser.add_argument("--quick", action="store_true", help="6 steps, 2 validation sets: checks the wiring")
    parser.add_argument("--json", help="write the curves, timings and settings to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.eval_every, args.n_val = 6, 3, 2
    if args.dim % args.heads:
        raise ValueError(f"--dim must be divisible by --heads, got {args.dim} and {args.heads}")
    peer_python("avici")  # fail early, naming the setup command

    from skcausal_meta.datasets import register_family

    args.family = register_family(FAMILY_FILE, overwrite=True).name
    log = sys.stderr
    load_start, started = os.getloadavg(), datetime.datetime.now(datetime.timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        graphs, args.exclude = write_validation(Path(tmp, "val.npz"), args.family, args.n_val)
        runs, extras = run_all(args, graphs, tmp, log)
    load_end = os.getloadavg()
    print(f"\nAVICI meta-training, ours vs avici 1.0.7, {args.steps} steps, batch 8, lin-Gauss ER d 5..20, "
          f"LAMB lr {args.lr:.3g} constant, clip 1; dim {args.dim}, {args.layers} layers, {args.heads} heads; "
          f"validation: {args.n_val} sets d=20 n=1000; {started:%Y-%m-%d %H:%M} UTC, "
          f"{platform.processor() or platform.machine()}, one thread per side, sides run one after the other; "
          f"1-min load average {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end.\n")
    print(format_report(runs))
    print()
    print(format_loss_table(runs, args.loss_window))
    ref = extras["avici"]
    print(f"\nreference: {ref['compile_s']:.0f} s to compile the training step for {ref['n_shapes']} batch shapes "
          f"(not in the step times); z-scoring, ours vs the reference's on the validation sets: max |diff| "
          f"{ref['standardize_max_diff']:.1e}; validation s per evaluation (median): ours "
          f"{np.median([e for r in runs for e in r['ours']['eval_s']]):.1f}, reference "
          f"{np.median([e for r in runs for e in r['avici']['eval_s']]):.1f}")
    if args.json:
        settings = {k: v for k, v in vars(args).items() if k not in ("exclude", "json")}
        record = dict(settings=settings, started=f"{started:%Y-%m-%d %H:%M}", load=[load_start[0], load_end[0]],
                      runs=runs, workers=extras)
        Path(args.json).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
