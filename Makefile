# RegimenGuard: every set-up step lives here so a fresh clone needs only Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 50051
PROTO_SRC := $(wildcard protos/regimenguard/v1/*.proto)
PROTO_OUT := protos/regimenguard/v1/regimen_checker_pb2.py
# The lock (pip-tools, with hashes): runtime.txt is what the image installs, dev.txt (a superset,
# with the same pins) what `make install` installs. `make lock` refreshes both from pyproject.toml.
LOCK_RUNTIME := requirements/runtime.txt
LOCK_DEV     := requirements/dev.txt
LOCK_BUILD   := requirements/build.txt
# The container image (Dockerfile) and the name deploy/deployment.yaml runs.
IMAGE_NAME := regimenguard
VERSION    := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
IMAGE      := $(IMAGE_NAME):$(VERSION)

.PHONY: install proto run test lint lock image bench clean accelerate pure

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)

# Exactly the locked versions (pip and setuptools included), checked against their hashes; then
# the project itself, editable and without isolation so the build uses the locked setuptools and
# grpcio-tools (tools/protoc_build.py generates the gRPC code into protos/ as it installs).
# Re-installs only when the project metadata or the lock changes.
$(VENV)/.installed: pyproject.toml $(LOCK_DEV) | $(VENV)/bin/activate
	$(PY) -m pip install --quiet --require-hashes -r $(LOCK_DEV)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Generated code is never committed: it is rebuilt whenever a .proto changes.
$(PROTO_OUT): $(PROTO_SRC) | $(VENV)/.installed
	$(PY) tools/protoc_build.py
	touch $@

# An editable install byte-compiles nothing, and with PYTHONDONTWRITEBYTECODE set Python never
# writes .pyc files itself: every start would compile the whole project again (about 0.3 s of
# the cold start). compileall writes them (git-ignored) and skips the files already up to date.
PACKAGE_DIRS := protos/regimenguard client dosing fhir interactions regimen review server

# The interaction tables parsed once into interactions/data/interaction_data.snapshot (git-ignored;
# regimenguard/interactions/snapshot.py): start-up then skips parsing every CSV row. Rewritten only
# when a data file or the parsing code changed; start-up never uses a stale one.
install: $(VENV)/.installed $(PROTO_OUT)
	@for so in $$(find regimen -name '*$(EXT_SUFFIX)'); do py=$${so%%.cpython-*}.py; \
		if [ -e "$$so" ] && [ "$$py" -nt "$$so" ]; then \
			echo "make install: $$so is older than $$py: removed (make accelerate rebuilds it)"; \
			rm -f "$$so" $(ACCEL_STAMP); fi; done
	@$(PY) -m compileall -q -j 0 $(PACKAGE_DIRS) >/dev/null
	@$(PY) -m regimenguard.interactions.snapshot >/dev/null

proto: $(PROTO_OUT)

# Optional: the per-request core compiled with mypyc (from mypy, in the dev lock) into C
# extensions beside their .py files, which Python then imports instead. Needs gcc and the
# Python headers; everything works without it (the pure-Python modules are the fallback), and
# answers are the same either way (bench/oracle.py). mypy names modules after their paths, so the
# build runs in build/mypyc/, a tree of symlinks named like the import package; the .so files
# land in the real folders through them, and mypyc's shared runtime (<hash>__mypyc.*.so, a
# top-level module) is copied into the venv's site-packages. `make pure` removes them all;
# `make install` removes a compiled module whose .py changed since (it would be used instead).
# Left interpreted: modules whose frozen dataclasses get regimen/slots_init.py's __init__
# (model.py, facts.py: native classes cannot take it), and modules that find data files from
# __file__ (headlines.py: a compiled module's __file__ follows the shared runtime's location),
# and engine.py (RegimenChecker is subclassed, and interpreted classes cannot inherit from
# compiled ones).
ACCEL_MODULES := $(filter-out regimen/rules/__init__.py,$(wildcard regimen/rules/*.py)) \
	regimen/validation.py regimen/compiled.py regimen/thresholds.py regimen/class_usage.py
EXT_SUFFIX := .cpython-311-x86_64-linux-gnu.so
ACCEL_STAMP := .stamp-accelerate
ACCEL_RUNTIME := regimenguard_core__mypyc$(EXT_SUFFIX)
SITE_PACKAGES = $(shell $(PY) -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
MYPYC_STAGE := build/mypyc

accelerate: $(ACCEL_STAMP)

$(ACCEL_STAMP): $(ACCEL_MODULES) | install
	@command -v gcc >/dev/null || command -v cc >/dev/null || \
		{ echo "make accelerate: needs a C compiler (gcc); the pure-Python build still works" >&2; exit 1; }
	rm -rf $(MYPYC_STAGE) && mkdir -p $(MYPYC_STAGE)/regimenguard
	for d in $(filter-out protos/regimenguard,$(PACKAGE_DIRS)); do \
		ln -s ../../../$$d $(MYPYC_STAGE)/regimenguard/$$d; done
	ln -s ../../../protos/regimenguard/__init__.py $(MYPYC_STAGE)/regimenguard/__init__.py
	cd $(MYPYC_STAGE) && ../../$(PY) ../../tools/mypyc_build.py \
		$(addprefix regimenguard/,$(ACCEL_MODULES)) >mypyc.log 2>&1 || { tail -30 mypyc.log; exit 1; }
	cp $(MYPYC_STAGE)/$(ACCEL_RUNTIME) $(SITE_PACKAGES)/
	$(PY) -c "import regimenguard.regimen.rules.base as m; assert m.__file__.endswith('.so'), m.__file__"
	touch $@

pure:
	find regimen -name '*$(EXT_SUFFIX)' -delete
	rm -f $(ACCEL_STAMP)
	@if [ -x $(PY) ]; then rm -f $(SITE_PACKAGES)/$(ACCEL_RUNTIME); fi

run: install
	$(VENV)/bin/regimen-guard serve --port $(PORT)

test: install
	$(PY) -m pytest -q

# buf comes from the npm package @bufbuild/buf (it ships the binary), run with npx: the npm
# registry is the only place it is fetched from. It runs in offline workspaces under build/buf/
# (tools/buf_workspace.py; buf.yaml says why): `buf lint` on protos/, and `buf breaking` against
# protos/ of BREAKING_AGAINST (default the previous commit; skipped, with a message, when that
# revision does not exist, as in a shallow clone).
BUF_VERSION := 1.75.0
BUF := npx --yes @bufbuild/buf@$(BUF_VERSION)
BUF_WORK := build/buf
# Uncommitted changes to protos/ are compared with HEAD, committed ones with the commit before.
BREAKING_AGAINST ?= $(shell git diff --quiet HEAD -- protos 2>/dev/null && echo HEAD~1 || echo HEAD)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@command -v npx >/dev/null || { echo "make lint: buf needs Node.js and npx (Node 18+)" >&2; exit 1; }
	$(PY) tools/buf_workspace.py $(BUF_WORK)/current
	$(BUF) lint $(BUF_WORK)/current
	@if git rev-parse --verify --quiet '$(BREAKING_AGAINST)^{commit}' >/dev/null; then \
		echo "buf breaking against $(BREAKING_AGAINST)"; \
		$(PY) tools/buf_workspace.py $(BUF_WORK)/against --git-ref '$(BREAKING_AGAINST)' && \
		$(BUF) breaking $(BUF_WORK)/current --against $(BUF_WORK)/against; \
	else \
		echo "make lint: no revision $(BREAKING_AGAINST): buf breaking skipped" >&2; \
	fi

# npm dependencies of the Node.js foreign-client test, exactly as package-lock.json pins them,
# into tests/node_client/node_modules (git-ignored). tests/test_node_client.py does the same.
NODE_CLIENT := tests/node_client
.PHONY: node-deps
node-deps: $(NODE_CLIENT)/node_modules/.package-lock.json

$(NODE_CLIENT)/node_modules/.package-lock.json: $(NODE_CLIENT)/package.json $(NODE_CLIENT)/package-lock.json
	cd $(NODE_CLIENT) && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

# Re-resolves the lock from pyproject.toml: new dependencies are added, existing pins kept
# (`make lock UPGRADE=1` moves every pin to the newest release). The runtime lock is resolved
# under the dev lock's pins, so the two agree. Needs the package index (a few minutes: every
# file's hash is computed). tests/test_lock.py checks the result covers pyproject.toml.
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet \
	--generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links \
	$(if $(UPGRADE),--upgrade)

lock: $(VENV)/.installed
	$(PIP_COMPILE) --allow-unsafe --extra dev --output-file $(LOCK_DEV) pyproject.toml
	$(PIP_COMPILE) --constraint $(LOCK_DEV) --output-file $(LOCK_RUNTIME) pyproject.toml
	$(PIP_COMPILE) --allow-unsafe --all-build-deps --only-build-deps --constraint $(LOCK_DEV) \
		--output-file $(LOCK_BUILD) pyproject.toml

# Needs a Docker (BuildKit) daemon, which the project's own machines do not have.
image:
	docker build -t $(IMAGE) .

bench: install
	$(PY) -m bench.run

clean:
	find regimen -name '*$(EXT_SUFFIX)' -delete
	rm -f $(ACCEL_STAMP)
	rm -rf $(VENV) build protos/regimenguard/v1/*_pb2*.py protos/regimenguard/v1/*_pb2.pyi .pytest_cache
