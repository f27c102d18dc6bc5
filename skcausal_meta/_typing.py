"""Type aliases used in the public annotations.

The public modules import these under ``if TYPE_CHECKING:`` (their annotations are postponed
with ``from __future__ import annotations``), so this module is never needed at runtime; it is
cheap (numpy only) all the same.
"""

from __future__ import annotations

import os
from typing import TypeAlias

import numpy as np

#: What ``random_state`` accepts: see :func:`skcausal_meta._validation.check_random_state`.
RandomStateLike: TypeAlias = int | np.random.Generator | np.random.SeedSequence | None

#: A file-system path.
PathLike: TypeAlias = str | os.PathLike[str]
