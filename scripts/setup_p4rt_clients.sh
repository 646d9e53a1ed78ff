#!/usr/bin/env bash
# Optional venvs for the P4Runtime client-library tests (tests/test_p4runtime_clients.py):
#   .venv-p4rs   p4runtime-shell (pins an old protobuf, so it cannot share .venv)
#   .venv-finsy  finsy (a recent protobuf / grpcio)
# Each holds only the client library; the tests run the client scripts in
# tests/p4rt_clients/ with that venv's python, against a p4sw started by pytest.
# Idempotent: an existing venv whose library imports is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
which_venvs=${*:-p4rs finsy}

make_venv() {  # name, import check, pip args...
    local dir=$1 check=$2; shift 2
    if [[ -x $dir/bin/python ]] && "$dir/bin/python" -c "$check" 2>/dev/null; then
        echo "setup_p4rt_clients: $dir ok"
        return
    fi
    echo "setup_p4rt_clients: creating $dir"
    "$PYTHON" -m venv "$dir"
    "$dir/bin/python" -m pip install -q --disable-pip-version-check "$@"
    "$dir/bin/python" -c "$check"
}

for v in $which_venvs; do
    case $v in
        p4rs)  make_venv .venv-p4rs "import p4runtime_sh.shell" p4runtime-shell ;;
        finsy) make_venv .venv-finsy "import finsy" finsy ;;
        *) echo "setup_p4rt_clients: unknown venv $v (p4rs, finsy)" >&2; exit 2 ;;
    esac
done
