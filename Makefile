# asynclab: `make help` lists the targets. Every knob in .env.example can be given on the
# command line (make up SERVER_MODE=asgi) or in the environment (SERVER_MODE=asgi make up).

.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# Knobs given on the command line (make up SERVER_MODE=asgi) reach compose through the
# environment, as make exports command-line variables; unset ones stay unset, so a value
# in .env still applies.

# docker compose v2 when the plugin is there, else Debian's docker-compose 1.29.
COMPOSE ?= $(shell if docker compose version >/dev/null 2>&1; then echo "docker compose"; else echo docker-compose; fi)
PYTHON ?= python3
VENV := .venv
WHEELS := build/wheels
LAB_IMAGE ?= asynclab:latest
export LAB_IMAGE
# loadgen records the commit it measured. Its files belong to the owner of RESULTS_DIR
# (loadgen/entry.py), so the `results` target only has to make it as you.
GIT_COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null)
# A path compose reads as a folder: it must start with ./ or /.
RESULTS_DIR ?= ./results
export GIT_COMMIT RESULTS_DIR
# make lab's sweep: the article's client and the lab's best (auto) for gather and the
# thread pool, each cell 3 times interleaved, at c = 20 (past wsgi's 10 threads). Each cell
# costs ~9 s whatever its window (drain, verify, warm-up, a window stretched to 3x the
# latency): 24 cells a mode made the lab 15 min 12 s with 3 s cells and 16 min 9 s with 2 s
# ones (docs/reference), so the lab keeps 12 and stays within 15 min on 2 cores.
LAB_SWEEP ?= --strategies gather,threadpool --clients article,auto --levels 20 --repeat 3 --duration 3s --warmup 1s
BASE_IMAGE ?= python:3.11-slim-bookworm
# The wheelhouse is for the image's Python (3.11 in both the official and the Debian
# base), not the host's. pip does not widen manylinux_2_36 to older tags: list them all.
IMAGE_PYTHON := 3.11
ARCH := $(shell uname -m)
PLATFORMS := $(foreach n,36 35 34 33 32 31 30 29 28 27 26 25 24 23 22 21 20 19 18 17,--platform manylinux_2_$(n)_$(ARCH)) --platform manylinux2014_$(ARCH)

.PHONY: help lab reference pinning db up down logs ps loadgen faults netem netem-off netem-image postgres-image secrets report results build base wheels venv knobs test test-service lint format bench bench-edge bench-first clean clean-base clean-db

help: ## List the targets
	@echo "asynclab: measure what async Django buys you. Targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'
	@echo "Knobs (defaults in .env.example): make up SERVER_MODE=asgi WORKERS=2 ..."

lab: build results ## The lab's main job: article table, sweep and resources in wsgi and asgi, then the report
	@start=$$(date +%s); \
	trap 'status=$$?; [ $$status = 0 ] || $(COMPOSE) down --remove-orphans >/dev/null 2>&1; exit $$status' EXIT; \
	for mode in wsgi asgi; do \
		$(MAKE) --no-print-directory up SERVER_MODE=$$mode; \
		SERVER_MODE=$$mode $(COMPOSE) run --rm --no-deps loadgen article; \
		SERVER_MODE=$$mode $(COMPOSE) run --rm --no-deps loadgen sweep $(LAB_SWEEP); \
		SERVER_MODE=$$mode $(COMPOSE) run --rm --no-deps loadgen resources; \
		$(MAKE) --no-print-directory down; \
	done; \
	$(COMPOSE) run --rm --no-deps loadgen report; \
	echo "lab done in $$(( $$(date +%s) - start )) s: open $(RESULTS_DIR)/report.md"

# make reference: make lab into docs/reference/, with the machine it ran on, so the docs
# quote a run anyone can repeat instead of figures copied by hand.
REFERENCE_DIR := ./docs/reference
reference: ## make lab into docs/reference/ (report, plots, JSON, machine): what docs/findings.md quotes (~15 min)
	rm -rf $(REFERENCE_DIR) && mkdir -p $(REFERENCE_DIR)
	@start=$$(date +%s); $(MAKE) --no-print-directory lab RESULTS_DIR=$(REFERENCE_DIR); \
	{ echo "# Reference run"; echo; \
	  echo "\`make reference\` on $$(date -u +%Y-%m-%d), commit $(GIT_COMMIT), in $$(( $$(date +%s) - start )) s: [report.md](report.md), one JSON file per experiment and mode."; echo; \
	  echo "- machine: $$(nproc) cores, $$(free -g | awk '/^Mem:/ {print $$2}') GiB, $$(uname -sr), $$(uname -m)"; \
	  echo "- docker: $$(docker version -f '{{.Server.Version}}' 2>/dev/null), compose: $$($(COMPOSE) version --short 2>/dev/null || $(COMPOSE) version | head -n 1)"; \
	  echo "- settings: make lab's defaults (WORKERS=1, THREADS=10, LAB_SWEEP=\"$(LAB_SWEEP)\"); versions of every service are in each JSON file's environment"; \
	} > $(REFERENCE_DIR)/README.md; echo "reference run in $(REFERENCE_DIR)"

# make pinning: does pinning each service to its own core cut the spread? The same asgi
# cells, 5 repeats interleaved, unpinned and then with the backend on CPU 0 and the gateway
# on CPU 1 (loadgen free); each sweep table prints every cell's spread and what bounded it.
PIN_SWEEP ?= --strategies gather --clients article,auto --levels 50 --repeat 5 --duration 5s --warmup 1s
pinning: build results secrets ## Spread with and without pinning each service to a core (asgi; ~6 min)
	@trap 'status=$$?; $(MAKE) --no-print-directory down >/dev/null 2>&1; exit $$status' EXIT; \
	for pin in none "BACKEND_CPUSET=0 GATEWAY_CPUSET=1"; do \
		echo "== pinning: $$pin"; \
		$(MAKE) --no-print-directory up SERVER_MODE=asgi $${pin/none/}; \
		SERVER_MODE=asgi $(COMPOSE) run --rm --no-deps loadgen sweep $(PIN_SWEEP); \
	done

# DB=postgres: the backend's database is the postgres service (its profile), not SQLite.
DB ?= sqlite
POSTGRES_SECRET_FILE ?= ./build/postgres-password
export DB POSTGRES_SECRET_FILE
PROFILES := $(if $(filter postgres,$(DB)),--profile postgres)

up: build secrets $(if $(filter postgres,$(DB)),postgres-image) ## Start backend and gateway (SERVER_MODE=wsgi|asgi|runserver, DB=sqlite|postgres) and wait until healthy
	$(COMPOSE) $(PROFILES) up -d --remove-orphans
	@docker/wait-healthy.sh $(COMPOSE) -- backend gateway
	@$(COMPOSE) logs --no-color backend gateway | grep '"event": "startup"' | tail -n 2
	@echo "gateway: http://localhost:$${GATEWAY_PORT:-8000}/api/aggregated/   backend: http://localhost:$${BACKEND_PORT:-8001}/api/"

down: ## Stop and remove the lab's containers and networks (PostgreSQL's volume stays: make clean-db)
	$(COMPOSE) --profile netem --profile loadgen --profile postgres down --remove-orphans

clean-db: ## Remove PostgreSQL's data volume (the next DB=postgres start initialises a new one)
	$(COMPOSE) --profile netem --profile loadgen --profile postgres down --remove-orphans --volumes

# The PostgreSQL password: random, written once, git-ignored (build/), never in the repo.
# 0644 because the containers read it as their own users; the postgres image sets it again
# at every start, so a new one works with an existing volume.
secrets:
	@mkdir -p $(dir $(POSTGRES_SECRET_FILE))
	@if [ -d $(POSTGRES_SECRET_FILE) ]; then rmdir $(POSTGRES_SECRET_FILE); fi
	@if [ ! -s $(POSTGRES_SECRET_FILE) ]; then \
		$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(32))' > $(POSTGRES_SECRET_FILE); \
		chmod 0644 $(POSTGRES_SECRET_FILE); echo "wrote a new PostgreSQL password to $(POSTGRES_SECRET_FILE)"; fi

logs: ## Follow the services' logs
	$(COMPOSE) logs -f --tail=100

ps: ## Show the services and their health
	$(COMPOSE) ps

loadgen: build results secrets ## Run loadgen against the running stack: make loadgen ARGS="sweep --levels 1,10"
	$(COMPOSE) run --rm --no-deps loadgen $(ARGS)

# make faults: when (seconds after loadgen starts) the backend is stopped, and for how long.
FAULT_AT ?= 15
FAULT_FOR ?= 10
faults: build results ## Stop the backend mid-run and start it again: errors, latency, time to recover
	@$(MAKE) --no-print-directory up
	@$(COMPOSE) run -T --rm --no-deps loadgen faults $(ARGS) & loadgen=$$!; \
	sleep $(FAULT_AT); echo "make faults: stopping the backend"; $(COMPOSE) stop backend; \
	sleep $(FAULT_FOR); echo "make faults: starting the backend"; $(COMPOSE) start backend; \
	wait $$loadgen

NETEM_IMAGE ?= asynclab-netem:latest
export NETEM_IMAGE
netem: netem-image ## Add NETEM_DELAY (50ms) of latency to all the backend sends (after make up)
	$(COMPOSE) --profile netem up -d --no-deps netem
	@sleep 1; line=$$($(COMPOSE) --profile netem logs --no-color netem | grep '"event": "netem"' | tail -n 1); \
	echo "$$line"; case "$$line" in *'"qdisc"'*) ;; *) $(COMPOSE) --profile netem rm --stop --force netem >/dev/null 2>&1; exit 1;; esac

netem-off: ## Remove the latency make netem added
	$(COMPOSE) --profile netem rm --stop --force netem

netem-image:
	@mkdir -p build
	@base=$$(BASE_IMAGE=debian:bookworm-slim LOCAL_BASE_IMAGE=asynclab-netem-base:bookworm BASE_PACKAGES=iproute2 \
		docker/base-image.sh); \
	docker build --build-arg BASE_IMAGE=$$base --tag $(NETEM_IMAGE) -f docker/netem.Dockerfile docker \
		> build/netem-build.log 2>&1 || { tail -n 20 build/netem-build.log; exit 1; }

POSTGRES_IMAGE ?= asynclab-postgres:latest
export POSTGRES_IMAGE
# Debian's postgresql-15 creates a cluster on install (39 MB) that the image never uses.
postgres-image: ## Build the PostgreSQL image (from Debian packages when no registry is reachable)
	@mkdir -p build
	@base=$$(BASE_IMAGE=postgres:15-bookworm LOCAL_BASE_IMAGE=asynclab-postgres-base:bookworm BASE_PACKAGES=postgresql-15 \
		BASE_CUSTOMIZE_HOOK='rm -rf "$$1"/etc/postgresql/15 "$$1"/var/lib/postgresql/15' docker/base-image.sh); \
	docker build --build-arg BASE_IMAGE=$$base --tag $(POSTGRES_IMAGE) -f docker/postgres.Dockerfile docker \
		> build/postgres-build.log 2>&1 || { tail -n 20 build/postgres-build.log; exit 1; }

# make db: the db experiment on every database set-up in both modes (about 16 minutes).
DB_VARIANTS ?= sqlite postgres postgres+pool
LAB_DB ?= --levels 1,10,40 --duration 5s --warmup 1s
db: build results secrets postgres-image ## The database experiment: SQLite, PostgreSQL, PostgreSQL+pool, under wsgi and asgi
	@start=$$(date +%s); \
	trap 'status=$$?; [ $$status = 0 ] || $(MAKE) --no-print-directory down >/dev/null 2>&1; exit $$status' EXIT; \
	for variant in $(DB_VARIANTS); do \
		case $$variant in sqlite) db=sqlite pool=false;; postgres) db=postgres pool=false;; postgres+pool) db=postgres pool=true;; \
			*) echo "make db: unknown variant $$variant"; exit 2;; esac; \
		for mode in wsgi asgi; do \
			$(MAKE) --no-print-directory up SERVER_MODE=$$mode DB=$$db DB_POOL=$$pool; \
			SERVER_MODE=$$mode DB=$$db DB_POOL=$$pool $(COMPOSE) run --rm --no-deps loadgen db $(LAB_DB); \
		done; \
	done; \
	$(MAKE) --no-print-directory down; \
	$(COMPOSE) run --rm --no-deps loadgen report; \
	echo "db done in $$(( $$(date +%s) - start )) s: open $(RESULTS_DIR)/report.md"

report: results ## Render results/ to results/report.md
	$(COMPOSE) run --rm --no-deps loadgen report

results:
	@mkdir -p $(RESULTS_DIR)

build: $(WHEELS)/.stamp ## Build the lab image (makes a Debian base first if no registry)
	@base=$$(docker/base-image.sh); echo "base image: $$base"; \
	docker build --build-arg BASE_IMAGE=$$base --tag $(LAB_IMAGE) . > build/docker-build.log 2>&1 \
		|| { tail -n 30 build/docker-build.log; echo "docker build failed: full log in build/docker-build.log"; exit 1; }; \
	echo "built $(LAB_IMAGE) ($$(docker image inspect -f '{{.Size}}' $(LAB_IMAGE) | awk '{printf "%d MB", $$1/1e6}'))"

base: ## Only find or make the base image, and print its name
	@docker/base-image.sh

wheels: $(WHEELS)/.stamp ## Download the image's Python wheels on the host

$(WHEELS)/.stamp: requirements.txt $(VENV)/.stamp
	rm -rf $(WHEELS) && mkdir -p $(WHEELS)
	$(VENV)/bin/pip download --quiet --no-deps --only-binary=:all: --dest $(WHEELS) \
		--python-version $(IMAGE_PYTHON) --implementation cp --abi cp$(subst .,,$(IMAGE_PYTHON)) \
		$(PLATFORMS) -r requirements.txt
	touch $@

venv: $(VENV)/.stamp ## Make the host venv the tests run in

$(VENV)/.stamp: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

knobs: venv ## Write .env.example and docs/knobs.md from the knob registry (asynclab/knobs.py)
	$(VENV)/bin/python -m asynclab.knobs

test: venv lint build secrets postgres-image ## Run every test: lint, the service tier on the host, then the compose tier (needs Docker)
	$(VENV)/bin/python -m pytest

lint: venv ## ruff: lint and format check (make format applies the formatting)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv ## Apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test-service: venv ## Run only the service tier (no Docker)
	$(VENV)/bin/python -m pytest -m "not compose"

bench: venv ## Benchmark loadgen against wrk (and an httpx engine) on the same targets
	$(VENV)/bin/python -m bench.loadgen_vs_wrk

bench-edge: venv ## CPU per request of the Host/size checks and the strict query parser, beside a whole request (~1 min)
	$(VENV)/bin/python -m bench.edge

bench-first: venv ## A fresh worker's first requests with the warm-up on and off (~1 min)
	$(VENV)/bin/python -m bench.first_requests

clean: ## Remove containers, the lab images, the venv and build/ (keeps the base images and PostgreSQL's data)
	-$(COMPOSE) --profile netem --profile loadgen --profile postgres down --remove-orphans
	-docker image rm $(LAB_IMAGE) $(POSTGRES_IMAGE) $(NETEM_IMAGE)
	rm -rf $(VENV) build .pytest_cache

clean-base: ## Remove the local Debian base images too
	-docker image rm asynclab-base:bookworm asynclab-postgres-base:bookworm asynclab-netem-base:bookworm
