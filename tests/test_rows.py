"""The encoder's row subsample: the same rows whatever the order of rows or variables."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from skcausal_meta.models.components.rows import select_rows


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 60), d=st.integers(1, 6), k=st.integers(1, 60), seed=st.integers(0, 2**16))
def test_subsample_is_a_set_of_input_rows_chosen_regardless_of_order(n, d, k, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, n, d, 2, generator=g)
    x[..., 1] = (torch.rand(2, n, d, generator=g) < 0.2).float()
    kept = select_rows(x, k)
    assert kept.shape == (2, min(n, k), d, 2)
    rows, variables = torch.randperm(n, generator=g), torch.randperm(d, generator=g)
    for b in range(2):  # every kept row is a row of the input
        assert all(any(torch.equal(r, s) for s in x[b]) for r in kept[b])

    def as_set(t):  # the rows as a sorted list of tuples
        return [sorted(map(tuple, t[b].reshape(t.shape[1], -1).tolist())) for b in range(t.shape[0])]

    assert as_set(select_rows(x[:, rows], k)) == as_set(kept)
    assert as_set(select_rows(x[:, :, variables], k)) == as_set(kept[:, :, variables])


def test_keeps_input_order_and_all_rows_up_to_k():
    x = torch.randn(1, 30, 4, 2)
    assert select_rows(x, None) is x and select_rows(x, 30) is x
    kept = select_rows(x, 10)[0]
    position = [next(i for i in range(30) if torch.equal(x[0, i], r)) for r in kept]
    assert position == sorted(position)


def test_rejects_a_bad_count():
    with pytest.raises(ValueError, match="encoder_rows"):
        select_rows(torch.randn(1, 5, 2, 2), 0)
