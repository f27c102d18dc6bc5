"""The rows an amortized encoder attends over, when the statistics read more.

Attention over rows costs ``O(n^2 d)`` per layer, the pair statistics ``O(n d^2)``: a network can
read statistics of every row and attend over a subsample of them, so that more rows sharpen its
inputs at little cost (``encoder_rows`` of :class:`~skcausal_meta.models.avici.AviciModel` and
:class:`~skcausal_meta.models.bcnp.BCNPModel`). The subsample must keep the networks' symmetries:
the same rows for any order of the rows, and for any order of the variables. So each row is
scored by a pseudo-random function of its values summed over the variables, and the ``k`` rows of
lowest score are kept, in their input order.
"""

from __future__ import annotations

import torch

from ..._validation import check_positive_int

__all__ = ["select_rows"]


def _row_scores(x: torch.Tensor) -> torch.Tensor:
    """A pseudo-random score in [0, 1) per row of ``x [B, n, d, c]``: a hash of the row's values that
    does not depend on the order of the variables (a sum over them) or on the other rows."""
    mixed = torch.sin(x.double() @ torch.linspace(12.9898, 78.233, x.shape[-1], dtype=torch.float64,
                                                     device=x.device)).sum(-1)  # [B, n]
    return torch.frac(43758.5453 * mixed).abs()


def select_rows(x: torch.Tensor, k: int | None) -> torch.Tensor:
    """The ``k`` rows of ``x [B, n, d, c]`` an encoder attends over (all of them when ``k`` is None
    or ``n <= k``), chosen by a hash of each row (module docstring), in their input order.

    Examples
    --------
    >>> import torch
    >>> x = torch.randn(2, 50, 3, 2)
    >>> select_rows(x, 10).shape
    torch.Size([2, 10, 3, 2])
    >>> perm = torch.randperm(50)
    >>> torch.equal(select_rows(x, 10).sort(1).values, select_rows(x[:, perm], 10).sort(1).values)
    True
    """
    if k is None or x.shape[1] <= k:
        return x
    k = check_positive_int(k, "encoder_rows")
    keep = torch.topk(_row_scores(x), k, dim=1, largest=False).indices.sort(dim=1).values  # [B, k]
    return torch.gather(x, 1, keep[:, :, None, None].expand(-1, -1, *x.shape[2:]))
