"""skcausal_meta side by side with the reference packages avici and dibs-lib, in one table.

    python benchmarks/peers/compare.py [--setup] [--quick | --full] [--parts {a,b,c,d} ...] [--json FILE]

``--setup`` first builds the peer virtual environments (``setup_venvs.sh``; without it a missing
venv stops the run with the command to build it). ``--parts`` runs only the named parts (all four
by default). Every row gives ours, theirs and the ratio
ours / theirs; the column "better" says which direction is good.

(a) Data sets generated per second, d = 20, n = 1000 (and one row with 200 extra
    interventional rows): ``make_scm_family`` on the families of ``avici_domains.py`` against
    ``avici.simulate_data`` on its ``lin-gauss`` and ``rff-gauss`` domains (that module's
    docstring lists what matches and what differs). A note gives avici's generator without the
    YAML parsing ``simulate_data`` repeats on every call.
(b) Marginal DiBS against dibs-lib (``dibs_vs_reference.py``): E-SHD, edge AUROC, seconds per
    step (mean over seeds).
(c) AVICI forward pass, n = 1000, d in {20, 100}: our ``AviciModel`` against avici's ``BaseModel``
    with random weights (no pretrained avici weights can be downloaded here), each through the
    inference path of its package, on the same data set. avici's default network has dim 128,
    8 layers (16 alternating attention blocks), 8 heads of key size 32 and widening factor 4;
    ours runs at the same size (``key_size=32``), and the table prints both parameter counts.
    The reference's JIT compilation is excluded from its time and reported in its own row.
(d) Joint DiBS, nonlinear Gaussian model, d = 10, n = 100, 10 particles, against dibs-lib's
    ``JointDiBS`` (``dibs_joint_vs_reference.py``, which says how each side is clocked and
    scored): E-SHD, edge AUROC and CPU seconds per step (means over seeds); the reference's
    JIT compilation in its own row.

Timing, the same on both sides: every measurement runs in a fresh subprocess (ours in this
interpreter's environment, theirs in their venv) with one CPU thread (BLAS, OpenMP, torch,
XLA); the clock runs inside the subprocess, so process start and imports are excluded; a row's
time is the median over repeats after warm-up calls. The column "same in CPU s" repeats the
ratio with the workers' CPU seconds (``time.process_time``, all threads of the process), which
other processes competing for the cores disturb less than the wall clock. Peak memory is the subprocess's peak
resident set size (``getrusage``), which includes the interpreter and libraries; the RSS just
before the first forward call is given in the notes. The marginal DiBS rows (b) time ours in this
process (see ``dibs_vs_reference.py``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from _harness import HERE, peer_python, run_worker
from dibs_joint_vs_reference import D, N, QUICK, joint_rows, side_means
from dibs_vs_reference import dibs_rows, summarize

SETTINGS = {
    "quick": dict(gen_repeats=5, gen_warmup=1, dibs=dict(dims=[5], seeds=1, steps=20, particles=4, samples=100),
                  forward_dims=[20], forward_n=200, forward_repeats=1, joint=QUICK),
    "default": dict(gen_repeats=20, gen_warmup=2, dibs=dict(dims=[10], seeds=2, steps=100, particles=10,
                                                            samples=100),
                    forward_dims=[20, 100], forward_n=1000, forward_repeats=2,
                    joint=dict(seeds=2, steps=100, particles=10)),
    "full": dict(gen_repeats=50, gen_warmup=3, dibs=dict(dims=[10, 20], seeds=5, steps=300, particles=20,
                                                         samples=100),
                 forward_dims=[20, 100], forward_n=1000, forward_repeats=2,
                 joint=dict(seeds=3, steps=300, particles=10)),
}
GENERATION = [("lin-gauss", 0), ("rff-gauss", 0), ("lin-gauss", 200)]
OURS_AVICI = dict(dim=128, n_layers=8, n_heads=8, key_size=32, widening_factor=4)
THEIRS_AVICI = dict(dim=128, layers=8, num_heads=8, key_size=32, widening_factor=4)


def _row(part, quantity, setting, ours, theirs, better, fmt, note="", ratio=True, cpu_ratio=None):
    """One table row; ``ratio=False`` prints no ratio (a quantity with no meaningful quotient),
    ``cpu_ratio`` is ours / theirs in CPU seconds where both sides measured them."""
    return dict(part=part, quantity=quantity, setting=setting, ours=ours, theirs=theirs,
                ratio=ours / theirs if ratio else None, cpu_ratio=cpu_ratio, better=better, fmt=fmt, note=note)


def generation_rows(settings, log):
    """Part (a): data sets per second, ours against ``avici.simulate_data``."""
    rows = []
    for domain, n_interv in GENERATION:
        task = dict(kind="simulate", domain=domain, d=20, n=1000, n_interv=n_interv,
                    repeats=settings["gen_repeats"], warmup=settings["gen_warmup"])
        ours = run_worker(sys.executable, "ours_worker.py", task)
        theirs = run_worker(peer_python("avici"), "avici_worker.py", task)
        ours_s = ours["make_scm_family_s"]
        setting = f"{domain} d=20 n=1000" + (f" + {n_interv} interventional" if n_interv else "")
        note = (f"avici's generator without the YAML parse: {1 / theirs['core_s']:.0f}/s "
                f"(ours / that = {theirs['core_s'] / ours_s:.2f})")
        rows.append(_row("a", "data sets / s", setting, 1 / ours_s, 1 / theirs["simulate_data_s"], "higher", ".0f",
                         note, cpu_ratio=theirs["simulate_data_cpu_s"] / ours["make_scm_family_cpu_s"]))
        print(f"(a) {setting}: ours {1e3 * ours_s:.2f} ms, avici {1e3 * theirs['simulate_data_s']:.2f} ms", file=log)
    return rows


def dibs_table_rows(settings, log):
    """Part (b): marginal DiBS against dibs-lib, means over seeds."""
    cfg = settings["dibs"]
    runs = dibs_rows(cfg["dims"], cfg["seeds"], cfg["steps"], cfg["particles"], cfg["samples"], 1,
                     peer_python("dibs"), log=log)
    rows = []
    for d in cfg["dims"]:
        ours, theirs = summarize(runs, d, "skcausal_meta"), summarize(runs, d, "dibs-lib")
        setting = (f"BGe, ER-2 lin-Gauss d={d} n={cfg['samples']}, {cfg['particles']} particles, {cfg['steps']} "
                   f"steps, {cfg['seeds']} seed(s)")
        for key, quantity, better, fmt in (("e_shd", "DiBS+ E-SHD", "lower", ".2f"),
                                           ("auroc", "DiBS+ edge AUROC", "higher", ".3f"),
                                           ("s_per_step", "DiBS s / step", "lower", ".4f")):
            rows.append(_row("b", quantity, setting, ours[key][0], theirs[key][0], better, fmt))
    return rows, runs


def joint_table_rows(settings, log):
    """Part (d): joint DiBS (nonlinear Gaussian) against dibs-lib's ``JointDiBS``, means over seeds."""
    cfg = settings["joint"]
    runs = joint_rows(cfg["seeds"], cfg["steps"], cfg["particles"], log=log)
    ours, theirs = side_means(runs, "skcausal_meta"), side_means(runs, "dibs-lib")
    setting = (f"nonlinear Gaussian ER-2 d={D} n={N}, {cfg['particles']} particles, {cfg['steps']} steps, "
               f"{cfg['seeds']} seed(s)")
    wall = f"wall s / step: ours {ours['wall_s_per_step']:.4f}, dibs-lib {theirs['wall_s_per_step']:.4f}"
    rows = [_row("d", "joint DiBS+ E-SHD", setting, ours["e_shd"], theirs["e_shd"], "lower", ".2f"),
            _row("d", "joint DiBS+ edge AUROC", setting, ours["auroc"], theirs["auroc"], "higher", ".3f"),
            _row("d", "joint DiBS CPU s / step", setting, ours["cpu_s_per_step"], theirs["cpu_s_per_step"], "lower",
                 ".4f", wall, cpu_ratio=ours["cpu_s_per_step"] / theirs["cpu_s_per_step"]),
            _row("d", "JIT compile CPU s (not in the time above)", setting, 0.0, theirs["compile_cpu_s"], "lower",
                 ".1f", "ours: eager PyTorch, nothing to compile", ratio=False)]
    return rows, runs


def forward_rows(settings, log):
    """Part (c): AVICI forward pass at the reference's default size, random weights."""
    from avici_domains import AVICI_DOMAINS
    from skcausal_meta.datasets import make_scm_family

    n = settings["forward_n"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for d in settings["forward_dims"]:
            X, _, _ = make_scm_family(AVICI_DOMAINS["lin-gauss"], n_datasets=1, n_nodes=d, n_samples=n,
                                      random_state=d)
            data = str(Path(tmp, f"x{d}.npz"))
            np.savez(data, X=X[0])
            common = dict(kind="forward", data=data, repeats=settings["forward_repeats"])
            ours = run_worker(sys.executable, "ours_worker.py", dict(common, model_kwargs=OURS_AVICI))
            theirs = run_worker(peer_python("avici"), "avici_worker.py", dict(common, model_kwargs=THEIRS_AVICI))
            setting = f"lin-gauss d={d} n={n}"
            print(f"(c) {setting}: ours {ours['forward_s']:.2f} s, avici {theirs['forward_s']:.2f} s", file=log)
            if d == settings["forward_dims"][0]:
                rows.append(_row("c", "AVICI parameters", "dim 128, 8 layers, 8 heads of 32, widening 4",
                                 ours["n_params"], theirs["n_params"], "-", ",.0f"))
            rows.append(_row("c", "AVICI forward s / data set", setting, ours["forward_s"], theirs["forward_s"],
                             "lower", ".3f", cpu_ratio=ours["forward_cpu_s"] / theirs["forward_cpu_s"]))
            rows.append(_row("c", "JIT compile s (not in the time above)", setting, 0.0, theirs["compile_s"], "lower",
                             ".2f", "ours: eager PyTorch, nothing to compile", ratio=False))
            rows.append(_row("c", "peak RSS MiB", setting, ours["peak_rss_mib"], theirs["peak_rss_mib"], "lower",
                             ".0f", f"RSS before the forward: ours {ours['rss_before_mib']:.0f}, "
                                    f"avici {theirs['rss_before_mib']:.0f} MiB"))
    return rows


def format_table(rows) -> str:
    """Markdown table, one line per row."""
    def ratio(value):
        return "-" if value is None else f"{value:.2f}"

    lines = ["| part | quantity | setting | ours | theirs | ours / theirs | same in CPU s | better | note |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| ({r['part']}) | {r['quantity']} | {r['setting']} | {r['ours']:{r['fmt']}} | "
                     f"{r['theirs']:{r['fmt']}} | {ratio(r['ratio'])} | {ratio(r['cpu_ratio'])} | {r['better']} | "
                     f"{r['note']} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setup", action="store_true", help="build the peer venvs first (setup_venvs.sh)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="tiny settings: checks the wiring in about a minute")
    size.add_argument("--full", action="store_true",
                      help="DiBS d = 10, 20, 5 seeds, 300 steps (joint DiBS: 3 seeds); more repeats")
    parser.add_argument("--parts", nargs="+", choices=["a", "b", "c", "d"], default=["a", "b", "c", "d"],
                        help="the parts to run (default: all)")
    parser.add_argument("--json", help="also write the rows (and the DiBS runs) to this file")
    args = parser.parse_args(argv)

    if args.setup:
        subprocess.run(["bash", str(HERE / "setup_venvs.sh")], check=True)
    for name in ["avici"] * bool({"a", "c"} & set(args.parts)) + ["dibs"] * bool({"b", "d"} & set(args.parts)):
        peer_python(name)  # fail early, naming the setup command
    mode = "quick" if args.quick else "full" if args.full else "default"
    settings = SETTINGS[mode]
    log = sys.stderr
    load_start = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    rows = generation_rows(settings, log) if "a" in args.parts else []
    dibs, dibs_runs = dibs_table_rows(settings, log) if "b" in args.parts else ([], [])
    rows += dibs + (forward_rows(settings, log) if "c" in args.parts else [])
    joint, joint_runs = joint_table_rows(settings, log) if "d" in args.parts else ([], [])
    rows += joint
    load_end = os.getloadavg()

    print(f"\nskcausal_meta vs avici 1.0.7 / dibs-lib 1.3.3 ({mode} settings), "
          f"{started:%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"one thread per side; 1-min load average {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end.\n")
    print(format_table(rows))
    if args.json:
        runs = dict(dibs_runs=dibs_runs, joint_runs=joint_runs)
        Path(args.json).write_text(json.dumps(dict(mode=mode, rows=rows, **runs), indent=1))


if __name__ == "__main__":
    main()
