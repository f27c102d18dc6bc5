"""Thin shim: ``python benchmarks/run.py CONFIG.yml [options]`` = ``python -m skcausal_meta.run --config ...``."""

import sys

from skcausal_meta.run import main

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit("usage: python benchmarks/run.py CONFIG.yml [--output-dir DIR] [--n-jobs N] [--no-progress]")
    sys.exit(main(["--config", sys.argv[1], *sys.argv[2:]]))
