#!/usr/bin/env bash
# Build the virtual environments of the reference packages compared in benchmarks/peers/:
#   $PEERS_DIR/venv-avici  avici 1.0.7 (CPU JAX)
#   $PEERS_DIR/venv-dibs   dibs-lib 1.3.3
# PEERS_DIR defaults to ~/.cache/skcausal-peers. Neither package is a dependency of skcausal_meta.
# Idempotent: a venv whose package already imports is left as it is; a broken one is rebuilt.
#
# Usage: bash benchmarks/peers/setup_venvs.sh [avici|dibs ...]   (default: both)
# Environment: PYTHON (interpreter for the venvs, default python3), PEERS_DIR.
set -euo pipefail

PY=${PYTHON:-python3}
PEERS_DIR=${PEERS_DIR:-$HOME/.cache/skcausal-peers}

# venv_ok DIR CHECK: true when DIR/bin/python runs the Python statement CHECK.
venv_ok() {
    [ -x "$1/bin/python" ] && "$1/bin/python" -c "$2" >/dev/null 2>&1
}

# fresh_venv DIR: (re)create an empty venv with a current pip.
fresh_venv() {
    rm -rf "$1"
    "$PY" -m venv "$1"
    "$1/bin/pip" install -q --upgrade pip
}

setup_avici() {
    local dir="$PEERS_DIR/venv-avici"
    local check="import avici, jax; assert jax.__version__ == '0.4.38'"
    if venv_ok "$dir" "$check"; then echo "avici venv ok: $dir"; return; fi
    echo "building the avici venv in $dir (about 3.3 GB: avici declares tensorflow as a dependency)"
    fresh_venv "$dir"
    "$dir/bin/pip" install -q "avici==1.0.7"
    # avici 1.0.7 installs with newer versions than it can run with, so pin them:
    #   jax/jaxlib 0.4.38 (jax >= 0.6 removed PositionalSharding, imported by `import avici`),
    #   dm-haiku 0.0.13 and optax 0.2.4 (newer ones need a newer jax),
    #   igraph 0.11.8 (1.0 changed Graph.Watts_Strogatz, used by lin-gauss and rff-gauss).
    "$dir/bin/pip" install -q "jax==0.4.38" "jaxlib==0.4.38" "dm-haiku==0.0.13" "optax==0.2.4" "igraph==0.11.8"
    "$dir/bin/python" -c "import avici; avici.simulate_data(5, 10, domain='rff-gauss'); print('avici venv ok')"
}

setup_dibs() {
    local dir="$PEERS_DIR/venv-dibs"
    local check="from dibs.inference import MarginalDiBS, JointDiBS"
    if venv_ok "$dir" "$check"; then echo "dibs venv ok: $dir"; return; fi
    echo "building the dibs-lib venv in $dir"
    fresh_venv "$dir"
    "$dir/bin/pip" install -q "dibs-lib==1.3.3"   # its own resolution (jax 0.10.2, numpy 2.4) works
    "$dir/bin/python" -c "$check; print('dibs venv ok')"
}

mkdir -p "$PEERS_DIR"
peers=("$@")
[ ${#peers[@]} -gt 0 ] || peers=(avici dibs)
for name in "${peers[@]}"; do
    case "$name" in
        avici) setup_avici ;;
        dibs) setup_dibs ;;
        *) echo "unknown peer '$name'; expected avici or dibs" >&2; exit 2 ;;
    esac
done
