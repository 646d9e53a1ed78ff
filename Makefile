# p4lvs: set-up, build, tests, demo, benchmarks.  Every target that runs
# Python first makes sure the set-up (scripts/setup.sh) has been done.
PY      := .venv/bin/python
STAMP   := .venv/.setup-stamp
BUILD   := build
SHARED  ?= $(abspath ../shared)
BASIC_P4 := $(SHARED)/conformance/tutorials/basic/solution/basic.p4
PYTEST_ARGS ?=

.PHONY: setup build test demo bench lint clean p4rt-client-venvs p4rt-test-programs bench-p4runtime test-p4runtime

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh

# P4 programs -> BMv2 JSON + P4Info with the project's compiler (p4pc).
build: $(STAMP)
	$(PY) -m topologies.build --out $(BUILD) --shared $(SHARED)

# pytest's exit status 5 ("no tests collected") is not a failure here.
test: $(STAMP)
	$(PY) -m pytest -q -rs $(PYTEST_ARGS) || [ $$? -eq 5 ]

demo: $(STAMP)
	$(PY) -m topologies.lvs_demo --out $(BUILD)

bench: $(STAMP)
	$(PY) bench/bench_switch.py --out $(BUILD) --shared $(SHARED)
	$(PY) bench/bench_compiler.py
	$(PY) bench/bench_p4runtime.py
	$(PY) bench/bench_lvs.py
	$(PY) bench/bench_synproxy.py

lint: $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check ruff
	$(PY) -m ruff check --select E9,F p4switch p4common p4compiler runtime topologies bench tests
	$(PY) -m compileall -q p4switch p4common p4compiler runtime topologies bench tests

clean:
	rm -rf $(BUILD) .pytest_cache *.egg-info
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +

# --- P4Runtime server (p4switch/p4runtime) ------------------------------------
# Client-library venvs for tests/test_p4runtime_clients.py: .venv-p4rs
# (p4runtime-shell, old protobuf) and .venv-finsy (finsy, new protobuf).
p4rt-client-venvs:
	bash scripts/setup_p4rt_clients.sh

# Regenerate the P4Runtime test program (JSON + P4Info) with the project's compiler.
p4rt-test-programs: $(STAMP)
	$(PY) -m p4compiler tests/p4rt_programs/p4rt_full.p4 -o tests/p4rt_programs/p4rt_full.json \
		--p4runtime-files tests/p4rt_programs/p4rt_full.p4info.txtpb

# The P4Runtime tests (client-library tests skip without `make p4rt-client-venvs`).
# P4LVS_P4RT_TARGET=host:port runs them against another server.
test-p4runtime: $(STAMP)
	$(PY) -m pytest -q -rs tests/test_p4runtime_server.py tests/test_p4runtime_entities.py \
		tests/test_p4runtime_cli.py tests/test_p4runtime_clients.py

bench-p4runtime: $(STAMP)
	$(PY) bench/bench_p4runtime.py
