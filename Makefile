# `make run` and `make test` each build .venv when needed. The stamp depends on pyproject.toml and
# constraints.txt, so a second call reinstalls only when one of them changed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench browser datasets clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,ray]"
	# MovieLens-100k for the ctr family: only the files the recbole wheel ships; never its deps
	$(BIN)/python -m pip install --quiet --no-deps recbole==1.2.1
	touch $(STAMP)

# Headless Chromium for the browser tests comes from Debian's packages, never a browser download.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "chromium could not be installed; browser tests will be skipped"; \
	  else echo "chromium missing; browser tests will be skipped"; fi; }

# Offline data from Debian's packages (never a download at run time): Fashion-MNIST for the
# transfer, quant and activations families. A missing package makes their loaders say which to install.
DEBIAN_DATASETS := dataset-fashion-mnist
datasets:
	@test -f /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_DATASETS) >/dev/null) \
	    || echo "$(DEBIAN_DATASETS) could not be installed"; \
	  else echo "$(DEBIAN_DATASETS) missing: apt-get install $(DEBIAN_DATASETS)"; fi; }

run: $(STAMP) datasets
	$(BIN)/packzoo

test: $(STAMP) browser datasets
	$(BIN)/python -m pytest -q

bench: $(STAMP) datasets
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[bench-activations]"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[bench-quant]"
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) results report.html
