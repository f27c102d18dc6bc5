"""How close the amortized forward pass comes to this machine's matrix-product peak.

    python benchmarks/roofline.py [--models avici bcnp] [--nodes 20 100] [--samples 200 1000]
                                  [--threads 1] [--repeats 3]

For each shipped default network and data size it prints:

* the forward pass's FLOPs counted analytically from the encoder's shapes (2 per multiply-add:
  every linear layer and both products of each attention, over variables and over rows), next to
  what ``torch.utils.flop_counter`` sees of the same forward (it counts the linear layers; on
  the CPU the fused attention kernel is not in its table, so the difference is the attention);
* the seconds of one forward (median of ``--repeats`` after a warm-up), the GFLOP/s this gives,
  and that rate as a fraction of the measured peak: a 1024 x 1024 float32 matrix product on the
  same number of threads (median of 20, measured before and after the rows, the larger kept).

The decoder (AVICI's pooled edge scores, BCNP's pooled order and edge heads) is left out of the
analytic count: it works on ``d^2`` pairs, not on ``n d`` cells, and costs under 1% here.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from skcausal_meta.models.components.encoder import AlternatingAxialEncoder, AxialBlock


def matmul_peak_gflops(size: int = 1024, repeats: int = 20) -> float:
    """GFLOP/s of a ``size x size`` float32 matrix product on the current torch threads."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(times) / 1e9


def block_flops(block: AxialBlock, cells: int, length: int) -> tuple[int, int]:
    """FLOPs ``(linear, attention)`` of one axial block on ``cells`` positions attending over ``length``."""
    attn = block.attn
    dim, width = attn.qkv.in_features, attn.n_heads * attn.key_size
    hidden = block.ffn[0].out_features
    linear = 2 * cells * (dim * 3 * width + width * dim + 2 * dim * hidden)
    attention = 2 * 2 * cells * length * width  # scores q k^T, then weights times v
    return linear, attention


def encoder_flops(encoder: AlternatingAxialEncoder, n: int, d: int) -> tuple[int, int]:
    """Analytic FLOPs ``(linear, attention)`` of ``encoder`` on one data set of ``n`` rows and ``d`` variables."""
    rows = n + encoder.n_query_rows
    cells = rows * d
    linear, attention = 2 * n * d * encoder.embed.in_features * encoder.embed.out_features, 0  # data rows only
    for over_variables, over_samples in zip(encoder.variable_blocks, encoder.sample_blocks):
        for block, length in ((over_variables, d), (over_samples, rows)):
            lin, att = block_flops(block, cells, length)
            linear, attention = linear + lin, attention + att
    return linear, attention


def _forward(network):
    """The network's deterministic forward: AVICI's edge logits, BCNP's order and edge logits
    (without the Monte Carlo permutation draws of its posterior)."""
    return network.decode if hasattr(network, "decode") else network.edge_logits


def forward_seconds(network, x, repeats: int) -> float:
    """Median seconds of one forward without gradients, after one warm-up."""
    forward = _forward(network)
    with torch.no_grad():
        forward(x)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            forward(x)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def counted_flops(network, x) -> int:
    """FLOPs ``torch.utils.flop_counter`` records for one forward."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        _forward(network)(x)
    return counter.get_total_flops()


def roofline_rows(models, nodes, samples, repeats: int) -> list[dict]:
    """One row per model, ``d`` and ``n``; see the module docstring."""
    from skcausal_meta import AviciEstimator, BCNPEstimator
    from skcausal_meta.models.amortized.inputs import make_model_input

    peak = matmul_peak_gflops()
    rows = []
    for model in models:
        estimator = {"avici": AviciEstimator, "bcnp": BCNPEstimator}[model]()
        network, stem = estimator._network()
        network.eval()
        for d in nodes:
            for n in samples:
                X = np.random.default_rng(0).standard_normal((n, d))
                x = torch.from_numpy(make_model_input(X, np.zeros((n, d), dtype=bool)))[None]
                linear, attention = encoder_flops(network.encoder, n, d)
                seconds = forward_seconds(network, x, repeats)
                rate = (linear + attention) / seconds / 1e9
                rows.append(dict(model=model, checkpoint=stem.name, d=d, n=n, gflop=(linear + attention) / 1e9,
                                 attention_share=attention / (linear + attention),
                                 counted_gflop=counted_flops(network, x) / 1e9, linear_gflop=linear / 1e9,
                                 seconds=seconds, gflops=rate))
    peak = max(peak, matmul_peak_gflops())  # measured before and after: a busy moment lowers one
    return [dict(row, peak_gflops=peak, fraction=row["gflops"] / peak) for row in rows]


def roofline_table(rows: list[dict]) -> str:
    head = ("| model | d | n | GFLOP (analytic) | attention share | linear GFLOP: analytic / flop_counter "
            "| forward (s) | GFLOP/s | peak GFLOP/s | fraction of peak |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    lines = [f"| {r['model']} ({r['checkpoint']}) | {r['d']} | {r['n']} | {r['gflop']:.1f} | "
             f"{r['attention_share']:.0%} | {r['linear_gflop']:.1f} / {r['counted_gflop']:.1f} | {r['seconds']:.2f} | "
             f"{r['gflops']:.0f} | {r['peak_gflops']:.0f} | {r['fraction']:.0%} |" for r in rows]
    return "\n".join([head, *lines])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=("avici", "bcnp"), default=["avici", "bcnp"])
    parser.add_argument("--nodes", nargs="+", type=int, default=[20, 100])
    parser.add_argument("--samples", nargs="+", type=int, default=[200, 1000])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = roofline_rows(args.models, args.nodes, args.samples, args.repeats)
    print(f"torch {torch.__version__}, {args.threads} thread(s)\n")
    print(roofline_table(rows))
    return rows


if __name__ == "__main__":
    main()
