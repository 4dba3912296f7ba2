# Two entry points: `make run` (serve the sample corpus) and `make test` (everything).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STORE ?= .dqa-store
DQA_LLM ?= none

.PHONY: install run test llm browser clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first, pinned: an unpinned resolve pulls a multi-GB CUDA build.
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

llm: install
	$(PIP) install -q llama-cpp-python llama-index-llms-llama-cpp
	$(PY) -m service.llm_setup --model $${DQA_LLM_MODEL:-qwen1.5b} --dest models/

run: install
	@if [ "$(DQA_LLM)" != "none" ]; then $(MAKE) llm; fi
	$(VENV)/bin/dqa --store $(STORE) ingest samples/directives
	$(VENV)/bin/dqa --store $(STORE) docs
	$(VENV)/bin/dqa --store $(STORE) serve --host 127.0.0.1 --port $${DQA_PORT:-8000}

test: install browser
	$(PY) -m pytest -q -rs

clean:
	rm -rf $(STORE) .pytest_cache
