"""Shared test setup: one BLAS/torch thread per process, so timings stay sane on small CI machines
(several threads per process on 2 cores thrash in the many small linear solves the tests run).

The environment variables cover BLAS libraries loaded later (scipy bundles its own OpenBLAS);
``threadpool_limits`` covers those already loaded.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import scipy.linalg  # noqa: E402,F401  (load scipy's BLAS before limiting it)
from threadpoolctl import threadpool_limits  # noqa: E402

threadpool_limits(1)

import torch  # noqa: E402

torch.set_num_threads(1)
