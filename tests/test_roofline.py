"""The analytic FLOP count of ``benchmarks/roofline.py`` against ``torch.utils.flop_counter``."""

import importlib.util
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from skcausal_meta.models.components.encoder import AlternatingAxialEncoder

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("roofline", REPO / "benchmarks" / "roofline.py")
roofline = importlib.util.module_from_spec(spec)
spec.loader.exec_module(roofline)


@pytest.mark.parametrize("n_query_rows, key_size", [(0, None), (1, 8)])
def test_encoder_flops_match_the_flop_counter(n_query_rows, key_size):
    """Linear layers: exactly what flop_counter counts; attention: the 4 n L width per block,
    checked against the same products written as plain matrix products (which it counts)."""
    torch.manual_seed(0)
    encoder = AlternatingAxialEncoder(2, dim=16, n_layers=2, n_heads=2, widening_factor=3,
                                      n_query_rows=n_query_rows, key_size=key_size).eval()
    n, d = 7, 5
    x = torch.randn(1, n, d, 2)
    linear, attention = roofline.encoder_flops(encoder, n, d)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        encoder(x)
    assert linear == counter.get_total_flops()
    rows = n + n_query_rows
    explicit = 0
    for block in (*encoder.variable_blocks, *encoder.sample_blocks):
        length = d if block in encoder.variable_blocks else rows
        width = block.attn.n_heads * block.attn.key_size
        q = torch.randn(rows * d // length, block.attn.n_heads, length, block.attn.key_size)
        with FlopCounterMode(display=False) as products:
            (q @ q.transpose(-1, -2)) @ q
        explicit += products.get_total_flops()
        assert width == q.shape[1] * q.shape[3]
    assert attention == explicit
