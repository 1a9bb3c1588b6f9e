# RegimenGuard: every set-up step lives here so a fresh clone needs only Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 50051
PROTO_SRC := protos/regimenguard/v1/regimen_checker.proto
PROTO_OUT := protos/regimenguard/v1/regimen_checker_pb2.py

.PHONY: install proto run test lint bench clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)

# Re-installs only when the project metadata changes.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/activate
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# Generated code is never committed: it is rebuilt whenever the .proto changes.
$(PROTO_OUT): $(PROTO_SRC) $(VENV)/.installed
	$(PY) -m grpc_tools.protoc \
		-Iprotos \
		-I"$$($(PY) -c 'import google.rpc, pathlib; print(pathlib.Path(google.rpc.__path__[0]).parents[1])')" \
		--python_out=protos --pyi_out=protos --grpc_python_out=protos \
		$(PROTO_SRC)

install: $(VENV)/.installed $(PROTO_OUT)

proto: $(PROTO_OUT)

run: install
	$(VENV)/bin/regimen-guard serve --port $(PORT)

test: install
	$(PY) -m pytest -q

# buf comes from the npm package @bufbuild/buf (it ships the binary), run with npx: the npm
# registry is the only place it is fetched from. buf.yaml explains build/proto-deps.
BUF_VERSION := 1.75.0
BUF := npx --yes @bufbuild/buf@$(BUF_VERSION)
PROTO_DEPS := build/proto-deps

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@command -v npx >/dev/null || { echo "make lint: buf needs Node.js and npx (Node 18+)" >&2; exit 1; }
	rm -rf $(PROTO_DEPS) && mkdir -p $(PROTO_DEPS)/google/rpc $(PROTO_DEPS)/google/api
	cp "$$($(PY) -c 'import google.rpc, pathlib; print(pathlib.Path(google.rpc.__path__[0]))')/status.proto" \
		$(PROTO_DEPS)/google/rpc/status.proto
	for name in annotations http; do \
		cp "$$($(PY) -c 'import google.api, pathlib; print(pathlib.Path(google.api.__path__[0]))')/$$name.proto" \
			$(PROTO_DEPS)/google/api/; \
	done
	$(BUF) lint

# npm dependencies of the Node.js foreign-client test, exactly as package-lock.json pins them,
# into tests/node_client/node_modules (git-ignored). tests/test_node_client.py does the same.
NODE_CLIENT := tests/node_client
.PHONY: node-deps
node-deps: $(NODE_CLIENT)/node_modules/.package-lock.json

$(NODE_CLIENT)/node_modules/.package-lock.json: $(NODE_CLIENT)/package.json $(NODE_CLIENT)/package-lock.json
	cd $(NODE_CLIENT) && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

bench: install
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) protos/regimenguard/v1/*_pb2*.py protos/regimenguard/v1/*_pb2.pyi .pytest_cache
