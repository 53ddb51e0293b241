# IPR border-enforcement platform. `make up` runs the whole system; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOT ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STACK := $(PY) -m deploy.local.stack
export PYTHONPATH := $(CURDIR)

.PHONY: help deps deps-test venv up down restart status logs test test-unit test-workflows test-integration test-e2e \
        fuzz fuzz-workflows clean contracts contracts-release lint token bench bench-risk bench-cases bench-parcels train simulate-learning \
        bench-broker backup restore chaos bench-consignment publish-calendar

help: ## Show the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-18s %s\n", $$1, $$2}'

deps: ## Install system packages the stack needs (PostgreSQL from Debian) if they are missing
	@bash deploy/local/install-deps.sh

NODE_MODULES := services/identity/provider/node_modules/.package-lock.json

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@$(PY) -m deploy.local.node link
	@touch $(STAMP)

# The OpenID provider's packages, exactly as locked (npm from the Node wheel in .venv).
$(NODE_MODULES): $(STAMP) services/identity/provider/package-lock.json
	@$(PY) -m deploy.local.node install

venv: $(STAMP) $(NODE_MODULES) ## Create .venv with the pinned Python packages, Node (from a wheel) and the provider's npm packages

up: deps venv ## Install what is missing, start the whole system in the background, print the URLs
	@$(STACK) up

down: ## Stop everything `make up` started
	@test -x $(PY) && $(STACK) down || true

restart: down up ## Stop and start again (data is kept: databases, Temporal, and the broker's topics, offsets and dead letters in .data/)

status: venv ## Show which processes run and whether each service is ready
	@$(STACK) status || true

logs: venv ## Follow the logs of every process
	@$(STACK) logs

backup: venv ## Copy every database, Temporal's and the broker's data to backups/dev/<time>/ (the stack may run)
	@$(STACK) backup $(if $(BACKUP),--to $(BACKUP),)

restore: deps venv ## Replace all data with a backup and start again: make restore BACKUP=backups/dev/<time>
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=backups/dev/<time>"; exit 2; }
	@$(STACK) restore --from $(BACKUP)

deps-test: ## System packages for the tests too (adds Debian's chromium for the console test)
	@bash deploy/local/install-deps.sh --test

# Every file is kept in ruff's format; the rules and their few project-wide exceptions are in pyproject.toml.
lint: venv ## ruff (rules and format) and mypy, as configured in pyproject.toml
	@$(PY) -m tools.timed lint "$(PY) -m ruff check --quiet ." "$(PY) -m ruff format --check --quiet ." \
		"$(PY) -m mypy"

test: deps-test venv ## Lint, then every test (unit, workflow, integration, end-to-end, fuzz) on a stack of its own; time per suite
	@$(MAKE) --no-print-directory lint
	@$(PY) -m pytest -p tests.timing

contracts: venv ## Regenerate contracts/: JSON Schema of every topic, the AsyncAPI document, every service's OpenAPI
	@$(PY) -m tools.contracts generate

contracts-release: venv ## Freeze each topic's current contract version in contracts/released (once; never rewritten)
	@$(PY) -m tools.contracts release

test-unit: deps-test venv ## Pure unit tests (documents need the CJK font and poppler; promtool checks the alert rules)
	@$(PY) -m pytest tests/unit

test-workflows: venv ## Case workflow under Temporal's time-skipping test server
	@$(PY) -m pytest tests/workflows

fuzz-workflows: venv ## Property test of the case workflow with many cases (WORKFLOW_FUZZ_EXAMPLES, default 300); prints figures
	@WORKFLOW_FUZZ_EXAMPLES=$${WORKFLOW_FUZZ_EXAMPLES:-300} $(PY) -m pytest tests/workflows/test_case_properties.py \
		-q -s -p no:cacheprovider -o timeout=7200

test-integration: deps venv ## Services against real PostgreSQL, broker and Temporal
	@$(PY) -m pytest tests/integration

test-e2e: deps-test venv ## A declaration through the whole running system
	@$(PY) -m pytest tests/e2e

FUZZ_EXAMPLES ?= 200

fuzz: deps venv ## Schemathesis against all seven services with more examples (FUZZ_EXAMPLES per operation, 200)
	@IPR_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) IPR_FUZZ_RANDOM=1 $(PY) -m pytest tests/fuzz

bench: bench-risk bench-cases bench-parcels bench-broker ## Run every benchmark (prints figures; not a test)

bench-risk: deps venv ## Risk: matcher cost at 100..100,000 marks, topic throughput vs raw consume, latency at 2,000 lines/s
	@$(PY) bench/risk.py

bench-cases: deps venv ## Cases: a burst of 2,000 through hold, notice and reply window, beside a trivial and a same-shaped no-op workflow
	@$(PY) bench/cases.py $(BENCH_ARGS)

bench-parcels: deps venv ## Parcel manifests: peak memory reading 10,000 parcels as a stream, accept time over HTTP
	@$(PY) bench/parcels.py

bench-consignment: venv ## The 10-line consignment on a running test stack: cases, guarantees, police referral
	@$(PY) bench/consignment.py

publish-calendar: venv ## Re-time running cases on a published calendar: make publish-calendar CALENDAR=cn BY=ops.name
	@$(PY) -m services.cases.calendars publish $(CALENDAR) $(if $(BY),--by $(BY))

train: venv ## Train a targeting model on the labelled lines of the risk database (enters shadow; DATABASE_URL of risk)
	@$(PY) -m services.risk.learning.train $(if $(SEED),--seed $(SEED))

simulate-learning: venv ## Simulated weeks: rules alone vs rules + a model retrained weekly on outcomes (prints figures)
	@$(PY) bench/simulate_learning.py $(SIMULATE_ARGS)
chaos: deps-test venv ## Kill -9 every process in turn and freeze the broker under load; prints what was lost (its own stack)
	@$(PY) -m tests.chaos.chaos $(CHAOS_ARGS)

bench-broker: venv ## Broker: produce and consume rates with durable (s3) storage beside memory storage
	@$(PY) bench/broker.py

token: venv ## Print an access token for curl: make token ROLE=officer [USER=li.na] (make up must be running)
	@$(PY) -m deploy.local.tokens $(or $(ROLE),officer) $(if $(filter command line,$(origin USER)),$(USER))

clean: down ## Stop everything and delete local data (.data, .data-test: databases, Temporal, broker); backups/ stays
	rm -rf .data .data-test .data-test-* .data-bench-*
