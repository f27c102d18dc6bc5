#!/usr/bin/env bash
# Build the HTML documentation into docs/_build/html with every Sphinx warning as an error,
# nitpicky (-n): every cross-reference must resolve, to our API or, through the vendored
# inventories of docs/_inventories (no network needed), to the documentation of a dependency.
# Needs the docs extra (pip install -c constraints-cpu.txt -e ".[docs,plot]"). The API pages
# (docs/generated/) and the example gallery (docs/auto_examples/, whose scripts run now) are
# intermediate sources: made afresh by every build, so that no page of a removed object
# survives, and removed afterwards, so that the work tree stays clean.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python}"
intermediate=(docs/generated docs/auto_examples docs/sg_execution_times.rst)
trap 'rm -rf "${intermediate[@]}"' EXIT
rm -rf "${intermediate[@]}" docs/_build
OMP_NUM_THREADS=1 "$python" -m sphinx -n -W --keep-going -b html docs docs/_build/html
echo "docs: docs/_build/html/index.html"
