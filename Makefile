# Two commands matter: `make run` and `make test` (see README.md).
GO        ?= go
BIN       := bin/trellis
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/trellisml/trellis/internal/cli.version=$(VERSION)

.PHONY: run build assets e2e-deps compat-deps mlflow-py-deps test fmt-check vet gotest bench clean

## run: install the browser libraries, build, and serve on 127.0.0.1:8420 with SQLite under ./trellis-data
run: build
	./$(BIN) serve --addr 127.0.0.1:8420 --data-dir ./trellis-data

## build: the trellis binary with the browser libraries embedded
build: assets
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/trellis

## assets: copy htmx, uPlot and SortableJS from npm into the embedded static folder
assets:
	scripts/vendor-assets.sh

e2e-deps:
	@if [ ! -d e2e/node_modules/playwright-core ]; then cd e2e && npm ci --no-audit --no-fund; fi

## compat-deps: the npm MLflow client that compat/mlflow-js drives a live server with
compat-deps:
	@if [ ! -f compat/mlflow-js/node_modules/mlflow/package.json ]; then cd compat/mlflow-js && npm ci --no-audit --no-fund; fi

# The MLflow Python client bundle: ../shared/mlflow-client beside the repository
# (or beside the parent of a worktree); override with MLFLOW_CLIENT=DIR.
MLFLOW_CLIENT ?= $(firstword $(wildcard ../shared/mlflow-client ../../shared/mlflow-client /work/shared/mlflow-client))
PYENV         := compat/mlflow-python/client.env

## mlflow-py-deps: the MLflow Python client that compat/mlflow-python drives (its setup installs
## missing Debian packages and unpacks it once); its environment goes to compat/mlflow-python/client.env
mlflow-py-deps:
	@if [ -f $(PYENV) ] && . ./$(PYENV) && [ -f "$$PYTHONPATH/mlflow/__init__.py" ]; then exit 0; fi; \
	if [ -z "$(MLFLOW_CLIENT)" ]; then echo "mlflow-py-deps: no ../shared/mlflow-client; compat/mlflow-python will skip"; exit 0; fi; \
	if $(MLFLOW_CLIENT)/setup > $(PYENV).tmp; then mv $(PYENV).tmp $(PYENV); \
	else rm -f $(PYENV).tmp; echo "mlflow-py-deps: $(MLFLOW_CLIENT)/setup failed; compat/mlflow-python will skip"; fi

## test: formatting, vet, and every test with the race detector (PostgreSQL
## suite when TRELLIS_TEST_POSTGRES is set, browser tests when Chromium is present,
## the npm MLflow client test when node is present, the Python one when ../shared/mlflow-client is)
test: assets e2e-deps compat-deps mlflow-py-deps fmt-check vet gotest

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './e2e/node_modules/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

gotest:
	$(GO) test -race -count=1 ./...

## bench: the Go benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
