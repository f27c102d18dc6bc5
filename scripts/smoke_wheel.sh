#!/usr/bin/env bash
# Build the sdist and the wheel with `python -m build`, install the wheel into a fresh virtual
# environment (CPU torch through constraints-cpu.txt), and check it there as a user would:
# `import skcausal_meta`, `python -m skcausal_meta.run --help`, `pip check`, and a fit of every
# registered estimator on a small data set (recipe/smoke_test.py, the conda recipe's script test).
# Everything runs in a temporary directory, outside the checkout, so the installed package is
# what gets imported. Usage: bash scripts/smoke_wheel.sh  (PYTHON=python3.X to pick the interpreter)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== build sdist and wheel"
"$python" -m venv "$work/build-venv"
"$work/build-venv/bin/python" -m pip install -q build
"$work/build-venv/bin/python" -m build --outdir "$work/dist" "$root"
ls -l "$work/dist"

echo "== install the wheel into a fresh virtual environment"
"$python" -m venv "$work/venv"
venv_python="$work/venv/bin/python"
"$venv_python" -m pip install -q -c "$root/constraints-cpu.txt" "$work"/dist/skcausal_meta-*.whl
"$venv_python" -m pip check

cd "$work"
echo "== import"
"$venv_python" -c "import skcausal_meta, sys; assert skcausal_meta.__file__.startswith(sys.prefix), skcausal_meta.__file__; print('import skcausal_meta: ok', skcausal_meta.__version__)"
echo "== CLI and estimator fits"
"$venv_python" "$root/recipe/smoke_test.py"
echo "smoke_wheel: ok"
