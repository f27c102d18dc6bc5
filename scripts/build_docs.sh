#!/usr/bin/env bash
# Build the HTML documentation into docs/_build/html with every Sphinx warning as an error.
# Needs the docs extra (pip install -c constraints-cpu.txt -e ".[docs,plot]"). The API pages
# (docs/generated/) and the example gallery (docs/auto_examples/, its scripts run now) are
# regenerated from scratch on every build, so that no page of a removed object survives.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python}"
rm -rf docs/generated docs/auto_examples docs/_build docs/sg_execution_times.rst
OMP_NUM_THREADS=1 "$python" -m sphinx -W --keep-going -b html docs docs/_build/html
echo "docs: docs/_build/html/index.html"
