#!/usr/bin/env bash
# All set-up for p4lvs on Debian 12, as root: the system packages the demo
# and the tests use, then a virtualenv (.venv) with the project installed
# editable.  Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."

# iproute2/ethtool/iputils-ping/tcpdump/hping3: network-namespace topologies
# and their traffic; cpp: the P4 compiler's preprocessor; make: the Makefile;
# mininet: topologies.mininet_backend (installed without its recommended
# Open vSwitch, which it does not use); nftables: the stock-Linux baseline
# balancer of bench/bench_lvs.py.
APT_PACKAGES=(python3 python3-venv python3-pip iproute2 ethtool iputils-ping
              tcpdump hping3 curl cpp make procps mininet nftables)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "setup: missing Debian packages (${missing[*]}); run as root" >&2
        exit 1
    fi
    echo "setup: apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup: $PYTHON is $("$PYTHON" -V 2>&1); Python >= 3.11 is needed" >&2
    exit 1
fi
if [[ ! -x .venv/bin/python ]]; then
    echo "setup: creating .venv with $("$PYTHON" -V 2>&1)"
    "$PYTHON" -m venv .venv
fi
echo "setup: installing the project (editable) and its dependencies into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
echo "setup: generating the P4Runtime protobuf modules (p4common/proto/gen)"
.venv/bin/python -m p4common.proto.build
echo "setup: P4Runtime client libraries in their own venvs (.venv-p4rs, .venv-finsy)"
bash scripts/setup_p4rt_clients.sh
touch .venv/.setup-stamp
echo "setup: done"
