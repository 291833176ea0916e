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
# The host's Python, for the venv and make's own small scripts (PYTHON is a knob, below).
HOST_PYTHON ?= python3
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
# Wheels of 2020-21 (uvloop 0.15, httptools 0.1) carry only the older manylinux tags.
OLD_PLATFORMS := $(PLATFORMS) $(foreach tag,manylinux2010 manylinux1 manylinux_2_12 manylinux_2_5,--platform $(tag)_$(ARCH))

# DJANGO: the Django the backend and gateway run (docs/versions.md). Each version has its
# own lock on a Python it supports, its Debian suite (the official image of that Python
# when a registry is reachable) and its image; the default, 5.2, is requirements.txt in
# LAB_IMAGE, which loadgen runs whatever DJANGO is.
DJANGO ?= 5.2
DJANGO_DEFAULT := 5.2
DJANGO_VERSIONS := 3.1 3.2 4.2 5.2 6.1
ifeq ($(filter $(DJANGO),$(DJANGO_VERSIONS)),)
$(error DJANGO=$(DJANGO): choose one of $(DJANGO_VERSIONS))
endif
django_suite = $(if $(filter 3.1 3.2,$(1)),bullseye,$(if $(filter 6.1,$(1)),trixie,bookworm))
django_python = $(if $(filter 3.1 3.2,$(1)),3.9,$(if $(filter 6.1,$(1)),3.13,3.11))
django_requirements = $(if $(filter $(DJANGO_DEFAULT),$(1)),requirements.txt,requirements/django-$(1).txt)
# One wheelhouse per Python: 3.1 and 3.2 share cp39, 4.2 adds its Django to the default's.
django_wheels = $(if $(filter 3.11,$(call django_python,$(1))),$(WHEELS),build/wheels-cp$(subst .,,$(call django_python,$(1))))
django_wheels_stamp = $(if $(filter $(DJANGO_DEFAULT),$(1)),$(WHEELS)/.stamp,build/versions/wheels-$(1).stamp)
django_image = $(if $(filter $(DJANGO_DEFAULT),$(1)),$(LAB_IMAGE),$(firstword $(subst :, ,$(LAB_IMAGE))):django-$(1))
# PYTHON: the backend's and gateway's interpreter when it is not DJANGO's own
# (docs/versions.md): 3.14 or 3.14t, CPython built here from one source with the same flags,
# with the GIL and without it (docker/python/), running PYTHON_DJANGO, the newest Django
# that supports 3.14, from one lock. Unset: DJANGO's image. loadgen keeps the default image.
PYTHON ?=
PYTHON_VERSIONS := 3.14 3.14t
PYTHON_DJANGO := 6.1
ifneq ($(strip $(PYTHON)),)
ifneq ($(words $(PYTHON))$(filter $(PYTHON),$(PYTHON_VERSIONS)),1$(strip $(PYTHON)))
$(error PYTHON=$(PYTHON): choose one of $(PYTHON_VERSIONS), or leave it unset for DJANGO's own Python)
endif
ifeq ($(origin DJANGO)$(filter $(PYTHON_DJANGO),$(DJANGO)),command line)
$(error PYTHON=$(PYTHON) runs Django $(PYTHON_DJANGO): DJANGO=$(DJANGO) cannot go with it (docs/versions.md))
endif
override DJANGO := $(PYTHON_DJANGO)
endif
python_image = $(firstword $(subst :, ,$(LAB_IMAGE))):py$(1)
python_wheels = build/wheels-cp314$(if $(filter %t,$(1)),t)
PY314_PLATFORMS := $(foreach n,41 40 39 38 37,--platform manylinux_2_$(n)_$(ARCH)) $(PLATFORMS)
# Derived, never taken from the environment: an outer make's value must not leak into
# `make up DJANGO=3.2` run inside it.
DJANGO_IMAGE = $(if $(strip $(PYTHON)),$(call python_image,$(PYTHON)),$(call django_image,$(DJANGO)))
export DJANGO DJANGO_IMAGE

.PHONY: help swarm-check swarm-stack swarm-up swarm-down swarm-lab swarm-push swarm-registry lab versions images print-django-image reference pinning servers streams edge-nginx edge-image db up down logs ps loadgen faults netem netem-off netem-image postgres-image secrets report browser results build base wheels venv knobs test test-service lint format bench bench-edge bench-first bench-tax clean clean-base clean-db

help: ## List the targets
	@echo "asynclab: measure what async Django buys you. Targets:"
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'
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

# make servers: the server matrix. Every SERVER_MODE in turn serves both services; loadgen
# runs the same four workloads on each (loadgen/experiments/servers.py) and the report
# ranks them. ~70 s a mode (a cell costs ~7 s whatever its window): ~12 min for ten.
SERVERS_MODES ?= wsgi gunicorn-sync gevent granian-wsgi asgi uvicorn-worker granian hypercorn daphne runserver
SERVERS_ARGS ?= --level 20 --repeat 3 --duration 2s --warmup 0.5s
servers: build results secrets ## The server matrix: the same workloads on every SERVER_MODE, ranked in the report (~12 min)
	@start=$$(date +%s); \
	trap 'status=$$?; $(MAKE) --no-print-directory down >/dev/null 2>&1; exit $$status' EXIT; \
	failed=""; for mode in $(SERVERS_MODES); do \
		echo "== servers: $$mode"; \
		$(MAKE) --no-print-directory up SERVER_MODE=$$mode \
			&& SERVER_MODE=$$mode $(COMPOSE) run --rm --no-deps loadgen servers $(SERVERS_ARGS) \
			|| failed="$$failed $$mode"; \
		$(MAKE) --no-print-directory down; \
	done; \
	$(COMPOSE) run --rm --no-deps loadgen report; \
	echo "servers done in $$(( $$(date +%s) - start )) s: open $(RESULTS_DIR)/report.md"; \
	if [ -n "$$failed" ]; then echo "servers: no result for:$$failed (their output is above)"; exit 1; fi

# make versions: the article's table and the versions experiment (backend CPU per request,
# threads per async request in flight) on every Django (docs/versions.md), in asgi and wsgi,
# then the default Django with DJANGO31_THREADS=on (the emulation the real 3.1 checks), and
# the report's side-by-side section. loadgen keeps the default image throughout.
VERSIONS_DJANGO ?= $(DJANGO_VERSIONS)
VERSIONS_MODES ?= asgi wsgi
# The sequential cells are serial on every version by construction (make lab has them).
VERSIONS_ARTICLE ?= --repeat 1 --strategies gather,threadpool
VERSIONS_ARGS ?= --level 20 --repeat 1 --duration 2s --warmup 0.5s
versions: results secrets ## The article's table, CPU and threads per request on every DJANGO, asgi and wsgi, side by side (~14 min)
	@start=$$(date +%s); \
	trap 'status=$$?; $(MAKE) --no-print-directory down >/dev/null 2>&1; exit $$status' EXIT; \
	for version in $(VERSIONS_DJANGO); do \
		for mode in $(VERSIONS_MODES); do \
			echo "== versions: Django $$version, $$mode ($$(( $$(date +%s) - start )) s)"; \
			$(MAKE) --no-print-directory up DJANGO=$$version SERVER_MODE=$$mode; \
			SERVER_MODE=$$mode $(COMPOSE) run --rm --no-deps loadgen article $(VERSIONS_ARTICLE); \
			SERVER_MODE=$$mode $(COMPOSE) run --rm --no-deps loadgen versions $(VERSIONS_ARGS); \
		done; \
	done; \
	echo "== versions: Django $(DJANGO_DEFAULT) with DJANGO31_THREADS=on, asgi ($$(( $$(date +%s) - start )) s)"; \
	$(MAKE) --no-print-directory up DJANGO=$(DJANGO_DEFAULT) SERVER_MODE=asgi DJANGO31_THREADS=true; \
	SERVER_MODE=asgi $(COMPOSE) run --rm --no-deps loadgen article $(VERSIONS_ARTICLE); \
	SERVER_MODE=asgi $(COMPOSE) run --rm --no-deps loadgen versions $(VERSIONS_ARGS); \
	$(MAKE) --no-print-directory down; \
	$(COMPOSE) run --rm --no-deps loadgen report; \
	echo "versions done in $$(( $$(date +%s) - start )) s: open $(RESULTS_DIR)/report.md"

# make streams: long-lived connections (docs/streams.md). Per mode: `loadgen streams` (the
# backend's async and sync event streams and the gateway's, 10/100/1000 at once; 10/100 in
# the thread-per-request modes, where every stream past the threads waits, and each one
# given up on still costs a thread a whole stream after the cell) and `loadgen slowclients`
# (40 and 200 slow connections, two shapes). A gateway stream reserves its calls up front:
# the budget is raised so the streams, not it, are measured. ~3 min a mode on 2 cores.
STREAMS_MODES ?= wsgi asgi
STREAMS_LEVELS ?= 10,100,1000
STREAMS_LEVELS_THREADED ?= 10,100
STREAMS_ARGS ?= --interval 0.5s --hold 3s --ramp 2s
SLOWCLIENTS_ARGS ?= --levels 40,200 --hold 8s
streams: build results secrets ## Streams and slow clients in each of STREAMS_MODES (wsgi asgi), then the report (~6 min)
	@start=$$(date +%s); \
	trap 'status=$$?; $(MAKE) --no-print-directory down >/dev/null 2>&1; exit $$status' EXIT; \
	for mode in $(STREAMS_MODES); do \
		echo "== streams: $$mode"; \
		$(MAKE) --no-print-directory up SERVER_MODE=$$mode GATEWAY_MAX_CALLS=100000; \
		case $$mode in wsgi|gunicorn-sync|granian-wsgi|runserver) levels=$(STREAMS_LEVELS_THREADED);; *) levels=$(STREAMS_LEVELS);; esac; \
		SERVER_MODE=$$mode $(COMPOSE) run --rm --no-deps $(LOADGEN_EDGE) loadgen streams --levels $$levels $(STREAMS_ARGS); \
		SERVER_MODE=$$mode $(COMPOSE) run --rm --no-deps $(LOADGEN_EDGE) loadgen slowclients $(SLOWCLIENTS_ARGS); \
		$(MAKE) --no-print-directory down; \
	done; \
	$(COMPOSE) run --rm --no-deps loadgen report; \
	echo "streams done in $$(( $$(date +%s) - start )) s: open $(RESULTS_DIR)/report.md"

# make streams-5k: issue 15's target, 5,000 async streams held at once by ONE uvicorn
# worker (asgi, WORKERS=1), events flowing. The ramp is what decides it on 2 shared cores:
# opening a stream (request, first event, end) costs the worker ~2-3 ms of CPU, so 5,000
# over 5 s (1,000/s) saturates it and the last streams open after the first have ended;
# over 20 s (250/s) it stays about half a core busy. Each run starts a fresh backend, so
# RSS per stream is measured from a process that has not grown yet. STREAMS_5K_LEAN=true
# (LEAN: no per-request thread, half the RSS and less CPU per stream) by default;
# STREAMS_5K_LEAN=false is Django as shipped (a thread per open stream with the backend's
# SQLite). ~1.5 min (up ~20 s, the cell 2 x ramp + hold + 5 s = 55 s, down).
.PHONY: streams-5k
STREAMS_5K_LEAN ?= true
STREAMS_5K_ARGS ?= --views async --levels 5000 --ramp 20s --hold 10s --interval 1s
streams-5k: build results secrets ## asgi, one uvicorn worker: 5,000 concurrent streams, threads/RSS per stream, event lag (~1.5 min)
	@trap 'status=$$?; $(MAKE) --no-print-directory down >/dev/null 2>&1; exit $$status' EXIT; \
	$(MAKE) --no-print-directory down >/dev/null 2>&1; \
	$(MAKE) --no-print-directory up SERVER_MODE=asgi WORKERS=1 LEAN=$(STREAMS_5K_LEAN); \
	SERVER_MODE=asgi $(COMPOSE) run --rm --no-deps loadgen streams $(STREAMS_5K_ARGS)

# make edge-nginx: what nginx in front fixes and what it costs, per mode: slow clients to
# the gateway bare and through nginx, then the same ordinary request through each, closed
# loop (throughput; nginx's CPU per request, its processes' and its cgroup's, over its own
# request count: docker/nginx/cost.sh) and open loop at a light rate (the hop's latency).
# ~2.5 min a mode.
EDGE_MODES ?= wsgi asgi
EDGE_COST_ARGS ?= -c 10 -d 5s --warmup 1s
EDGE_LATENCY_ARGS ?= --rate 50 -d 5s --warmup 1s
edge-nginx: build results secrets edge-image ## nginx in front of the gateway vs bare: slow clients, latency and CPU per request (~5 min)
	@trap 'status=$$?; $(MAKE) --no-print-directory down EDGE=nginx >/dev/null 2>&1; exit $$status' EXIT; \
	url='/api/aggregated/?n=1&delay=0&target=async'; \
	for mode in $(EDGE_MODES); do \
		echo "== edge-nginx: $$mode"; \
		$(MAKE) --no-print-directory up SERVER_MODE=$$mode EDGE=nginx; \
		SERVER_MODE=$$mode $(COMPOSE) run --rm --no-deps loadgen slowclients $(SLOWCLIENTS_ARGS); \
		SERVER_MODE=$$mode $(COMPOSE) run --rm --no-deps -e LOADGEN_GATEWAY_URL=http://edge:8080 loadgen slowclients $(SLOWCLIENTS_ARGS); \
		edge=$$($(COMPOSE) --profile nginx ps -q edge); \
		for load in "closed:$(EDGE_COST_ARGS)" "open:$(EDGE_LATENCY_ARGS)"; do \
			docker/nginx/cost.sh "$$mode, $${load%%:*} loop, gateway bare" "" \
				env SERVER_MODE=$$mode $(COMPOSE) run --rm --no-deps loadgen run $${load#*:} "http://gateway:8000$$url"; \
			docker/nginx/cost.sh "$$mode, $${load%%:*} loop, through nginx" "$$edge" \
				env SERVER_MODE=$$mode $(COMPOSE) run --rm --no-deps loadgen run $${load#*:} "http://edge:8080$$url"; \
		done; \
		$(MAKE) --no-print-directory down EDGE=nginx; \
	done

# nginx for EDGE=nginx: the official image's base when a registry is reachable, else Debian's nginx.
edge-image: ## Build the nginx image EDGE=nginx puts in front of the gateway (from Debian packages offline)
	@mkdir -p build
	@base=$$(BASE_IMAGE=nginx:1.26-bookworm LOCAL_BASE_IMAGE=asynclab-nginx-base:bookworm BASE_PACKAGES=nginx \
		BASE_WORKDIR=build/base-nginx docker/base-image.sh); \
	docker build --build-arg BASE_IMAGE=$$base --tag $(EDGE_IMAGE) -f docker/nginx/Dockerfile docker/nginx \
		> build/edge-build.log 2>&1 || { tail -n 20 build/edge-build.log; exit 1; }

# DB=postgres: the backend's database is the postgres service (its profile), not SQLite.
DB ?= sqlite
POSTGRES_SECRET_FILE ?= ./build/postgres-password
export DB POSTGRES_SECRET_FILE
PROFILES := $(if $(filter postgres,$(DB)),--profile postgres)
# EDGE=nginx: nginx in front of the gateway (the edge service's profile); loadgen then
# loads the gateway through it.
EDGE ?= none
EDGE_IMAGE ?= asynclab-nginx:latest
export EDGE_IMAGE
PROFILES += $(if $(filter nginx,$(EDGE)),--profile nginx)
LOADGEN_EDGE := $(if $(filter nginx,$(EDGE)),-e LOADGEN_GATEWAY_URL=http://edge:8080)
# The images DB and EDGE add to the lab's own, for every target that starts the services.
SERVICE_IMAGES = $(if $(filter postgres,$(DB)),postgres-image) $(if $(filter nginx,$(EDGE)),edge-image)

up: build secrets $(SERVICE_IMAGES) ## Start backend and gateway (SERVER_MODE=wsgi|asgi|runserver, DB=sqlite|postgres, EDGE=none|nginx) and wait until healthy
	$(COMPOSE) $(PROFILES) up -d --remove-orphans
	@docker/wait-healthy.sh $(COMPOSE) -- backend gateway $(if $(filter nginx,$(EDGE)),edge)
	@$(COMPOSE) logs --no-color backend gateway | grep '"event": "startup"' | tail -n 2
	@echo "gateway: http://localhost:$${GATEWAY_PORT:-8000}/api/aggregated/   backend: http://localhost:$${BACKEND_PORT:-8001}/api/"

down: ## Stop and remove the lab's containers and networks (PostgreSQL's volume stays: make clean-db)
	$(COMPOSE) --profile netem --profile loadgen --profile postgres --profile nginx down --remove-orphans

clean-db: ## Remove PostgreSQL's data volume (the next DB=postgres start initialises a new one)
	$(COMPOSE) --profile netem --profile loadgen --profile postgres --profile nginx down --remove-orphans --volumes

# The PostgreSQL password: random, written once, git-ignored (build/), never in the repo.
# 0644 because the containers read it as their own users; the postgres image sets it again
# at every start, so a new one works with an existing volume.
secrets:
	@mkdir -p $(dir $(POSTGRES_SECRET_FILE))
	@if [ -d $(POSTGRES_SECRET_FILE) ]; then rmdir $(POSTGRES_SECRET_FILE); fi
	@if [ ! -s $(POSTGRES_SECRET_FILE) ]; then \
		$(HOST_PYTHON) -c 'import secrets; print(secrets.token_urlsafe(32))' > $(POSTGRES_SECRET_FILE); \
		chmod 0644 $(POSTGRES_SECRET_FILE); echo "wrote a new PostgreSQL password to $(POSTGRES_SECRET_FILE)"; fi

logs: ## Follow the services' logs
	$(COMPOSE) logs -f --tail=100

ps: ## Show the services and their health
	$(COMPOSE) ps

loadgen: build results secrets ## Run loadgen against the running stack: make loadgen ARGS="sweep --levels 1,10"
	$(COMPOSE) run --rm --no-deps $(LOADGEN_EDGE) loadgen $(ARGS)

# --- Docker Swarm (docs/swarm.md) ----------------------------------------------------------
# The same lab as a stack: generated from docker-compose.yml (swarm/stack.py), loadgen as
# LOADGEN_REPLICAS replica tasks that a conductor on this node (docker/conductor.sh) runs
# every measurement on and merges. Never initialises or leaves a swarm: that is yours to do.
SWARM_STACK ?= asynclab
LOADGEN_REPLICAS ?= 2
REGISTRY ?=
REGISTRY_PORT ?= 5000
SWARM_RESULTS_DIR ?= ./results/swarm
SWARM_STACK_FILE = build/stack-$(SWARM_STACK).yml
# make swarm-lab's sweep: gather with the tuned and the article's client at c = 20, each cell twice.
SWARM_SWEEP ?= --strategies gather --clients article,auto --levels 20 --repeat 2 --duration 3s --warmup 1s
REGISTRY_IMAGE ?= asynclab-registry:latest
# Passed to what reads them, never exported: loadgen reads LOADGEN_REPLICAS as its
# --replicas, so an exported default would send every host loadgen run (make test's too)
# looking for replicas.
# Without a registry the stack runs this node's images, which only a single-node swarm has.
SWARM_IMAGES = $(DJANGO_IMAGE) $(LAB_IMAGE) $(if $(filter postgres,$(DB)),$(POSTGRES_IMAGE)) $(if $(filter nginx,$(EDGE)),$(EDGE_IMAGE))

swarm-check:
	@state=$$(docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}' 2>/dev/null || echo none); \
	case "$$state" in \
		"active true") ;; \
		"active false") echo "make: this node is a swarm worker: run the swarm targets on a manager (docker node ls there)"; exit 1;; \
		*) echo "make: this Docker engine is in no swarm (docs/swarm.md). Start a single-node one with"; \
			echo "  docker swarm init --advertise-addr 127.0.0.1"; \
			echo "or join the nodes of yours; make never starts or leaves a swarm itself."; exit 1;; \
	esac

swarm-stack: venv secrets swarm-check ## Write the swarm stack file from docker-compose.yml and the knobs (build/stack-SWARM_STACK.yml)
	@LOADGEN_REPLICAS=$(LOADGEN_REPLICAS) REGISTRY=$(REGISTRY) $(VENV)/bin/python -m swarm.stack --out $(SWARM_STACK_FILE)

swarm-up: swarm-check build secrets $(SERVICE_IMAGES) swarm-stack $(if $(REGISTRY),swarm-push) ## Deploy the lab as a swarm stack (needs an active swarm) and wait until every task is healthy
	@nodes=$$(docker node ls -q | wc -l); if [ -z "$(REGISTRY)" ] && [ "$$nodes" -gt 1 ]; then \
		echo "make swarm-up: $$nodes nodes and no REGISTRY: the other nodes cannot pull this node's images (make swarm-push; docs/swarm.md)"; exit 1; fi
	docker stack deploy --prune $(if $(REGISTRY),,--resolve-image never) -c $(SWARM_STACK_FILE) $(SWARM_STACK)
	@docker/swarm-wait.sh $(SWARM_STACK)

swarm-down: swarm-check ## Remove the stack and wait until its networks are gone (the swarm itself stays)
	docker stack rm $(SWARM_STACK)
	@for i in $$(seq 60); do [ -z "$$(docker network ls -q --filter label=com.docker.stack.namespace=$(SWARM_STACK))" ] && exit 0; sleep 1; done; \
		echo "make swarm-down: the stack's networks are still there after 60 s" >&2; exit 1

# make swarm-lab: the article's table and a short sweep, every measurement on LOADGEN_REPLICAS
# replicas merged into one result, into SWARM_RESULTS_DIR with its report (~2.5 min on one node, warm).
swarm-lab: swarm-up ## The article table and a short sweep on the swarm, with LOADGEN_REPLICAS loadgen replicas merged (~2.5 min)
	@start=$$(date +%s); \
	docker/conductor.sh $(SWARM_STACK) $(SWARM_RESULTS_DIR) article --replicas $(LOADGEN_REPLICAS); \
	docker/conductor.sh $(SWARM_STACK) $(SWARM_RESULTS_DIR) sweep --replicas $(LOADGEN_REPLICAS) $(SWARM_SWEEP); \
	docker/conductor.sh $(SWARM_STACK) $(SWARM_RESULTS_DIR) report; \
	if ls $(RESULTS_DIR)/*-article-*.json >/dev/null 2>&1; then \
		echo "== the compose run in $(RESULTS_DIR) beside this one (loadgen compare)"; \
		$(VENV)/bin/python -m loadgen compare $(RESULTS_DIR) $(SWARM_RESULTS_DIR) || true; fi; \
	echo "swarm-lab done in $$(( $$(date +%s) - start )) s: open $(SWARM_RESULTS_DIR)/report.md"

# The images the stack runs, into REGISTRY; with none, into a local one on 127.0.0.1
# (docker-registry from Debian's packages when no registry is reachable).
swarm-push: build $(SERVICE_IMAGES) $(if $(REGISTRY),,swarm-registry) ## Push the stack's images to REGISTRY (or a local registry on 127.0.0.1:REGISTRY_PORT)
	@registry=$(or $(REGISTRY),127.0.0.1:$(REGISTRY_PORT)); \
	for image in $(sort $(SWARM_IMAGES)); do \
		docker tag $$image $$registry/$$image; \
		docker push $$registry/$$image > build/swarm-push.log 2>&1 || { tail -n 20 build/swarm-push.log; exit 1; }; \
		echo "pushed $$registry/$$image"; \
	done; \
	[ -n "$(REGISTRY)" ] || echo "make swarm-up REGISTRY=$$registry deploys from it"

swarm-registry:
	@if [ -n "$$(docker ps -q --filter label=asynclab.registry=$(REGISTRY_PORT))" ]; then exit 0; fi; \
	mkdir -p build; \
	base=$$(BASE_IMAGE=registry:2 LOCAL_BASE_IMAGE=asynclab-registry-base:bookworm BASE_PACKAGES=docker-registry \
		BASE_WORKDIR=build/base-registry docker/base-image.sh); \
	docker build --build-arg BASE_IMAGE=$$base --tag $(REGISTRY_IMAGE) -f docker/registry/Dockerfile docker/registry \
		> build/registry-build.log 2>&1 || { tail -n 20 build/registry-build.log; exit 1; }; \
	docker run -d --rm --label asynclab.registry=$(REGISTRY_PORT) --read-only --tmpfs /tmp --cap-drop ALL \
		--security-opt no-new-privileges:true -p 127.0.0.1:$(REGISTRY_PORT):5000 $(REGISTRY_IMAGE) >/dev/null; \
	for i in $$(seq 150); do \
		$(HOST_PYTHON) -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
			http://127.0.0.1:$(REGISTRY_PORT)/v2/ 2>/dev/null && break; \
		[ $$i -lt 150 ] || { echo "make swarm-registry: no registry answers on 127.0.0.1:$(REGISTRY_PORT)"; exit 1; }; sleep 0.2; \
	done; \
	echo "local registry on 127.0.0.1:$(REGISTRY_PORT) (docker ps --filter label=asynclab.registry)"

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

report: results ## Render results/ to results/report.md and results/report.html (self-contained, opens offline)
	@$(COMPOSE) run --rm --no-deps loadgen report
	@echo "report: $(RESULTS_DIR)/report.md (PNG plots beside it) and $(RESULTS_DIR)/report.html (one file: open it in a browser)"

# The compose tier opens report.html in a real headless browser: Debian's chromium.
browser: ## Install Chromium for the report's browser test (apt, as root), unless it is on PATH
	@if command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "make browser: installing chromium (the report's browser test needs it)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	else \
		echo "make browser: the report's browser test needs Chromium; install it with:"; \
		echo "  sudo apt-get install -y --no-install-recommends chromium"; exit 1; \
	fi

results:
	@mkdir -p $(RESULTS_DIR)

# The image of Django version $(1): its Debian suite's base (BASE_IMAGE is the default's
# only), its lock and wheelhouse; the build's log in build/, its time and size on stdout.
define build_image
@mkdir -p build/versions; \
	base=$$($(if $(filter $(DJANGO_DEFAULT),$(1)),,env -u BASE_IMAGE )docker/base-image.sh $(call django_suite,$(1))); \
	echo "base image: $$base (Django $(1), Python $(call django_python,$(1)))"; start=$$(date +%s); \
	log=build/docker-build$(if $(filter $(DJANGO_DEFAULT),$(1)),,-django-$(1)).log; \
	docker build --build-arg BASE_IMAGE=$$base --build-arg REQUIREMENTS=$(call django_requirements,$(1)) \
		--build-arg WHEELS=$(call django_wheels,$(1)) --tag $(call django_image,$(1)) . > $$log 2>&1 \
		|| { tail -n 30 $$log; echo "docker build failed: full log in $$log"; exit 1; }; \
	echo "built $(call django_image,$(1)) in $$(( $$(date +%s) - start )) s ($$(docker image inspect -f '{{.Size}}' $(call django_image,$(1)) | awk '{printf "%d MB", $$1/1e6}'))"
endef

# The image of PYTHON=$(1) (3.14 or 3.14t): its interpreter base (docker/python/base.sh
# compiles it when it is not here: the CPU minutes are in docs/versions.md), the one lock,
# the wheels of its ABI.
define build_python_image
@mkdir -p build/versions; \
	base=$$(HOST_PYTHON=$(VENV)/bin/python docker/python/base.sh $(1)); \
	echo "base image: $$base (CPython $(1), Django $(PYTHON_DJANGO))"; start=$$(date +%s); \
	log=build/docker-build-py$(1).log; \
	docker build --build-arg BASE_IMAGE=$$base --build-arg REQUIREMENTS=requirements/python-3.14.txt \
		--build-arg WHEELS=$(call python_wheels,$(1)) --tag $(call python_image,$(1)) . > $$log 2>&1 \
		|| { tail -n 30 $$log; echo "docker build failed: full log in $$log"; exit 1; }; \
	echo "built $(call python_image,$(1)) in $$(( $$(date +%s) - start )) s ($$(docker image inspect -f '{{.Size}}' $(call python_image,$(1)) | awk '{printf "%d MB", $$1/1e6}'))"
endef

# The services' image for DJANGO (or PYTHON), and loadgen's (the default) when that is another one.
ifeq ($(strip $(PYTHON)),)
build: $(call django_wheels_stamp,$(DJANGO)) $(if $(filter $(DJANGO_DEFAULT),$(DJANGO)),,$(WHEELS)/.stamp) ## Build the lab image (DJANGO=3.1|3.2|4.2|5.2|6.1 or PYTHON=3.14|3.14t; makes a Debian base first if no registry)
	$(if $(filter $(DJANGO_DEFAULT),$(DJANGO)),,$(call build_image,$(DJANGO_DEFAULT)))
	$(call build_image,$(DJANGO))
else
build: build/versions/wheels-py$(PYTHON).stamp $(WHEELS)/.stamp
	$(call build_image,$(DJANGO_DEFAULT))
	$(call build_python_image,$(PYTHON))
endif

# The services' image for DJANGO, for scripts and tests: `make -s print-django-image DJANGO=3.1`.
print-django-image:
	@echo $(DJANGO_IMAGE)

images: ## Build the image of every Django version and of every PYTHON (docs/versions.md)
	@for version in $(DJANGO_VERSIONS); do $(MAKE) --no-print-directory build DJANGO=$$version; done
	@for python in $(PYTHON_VERSIONS); do $(MAKE) --no-print-directory build PYTHON=$$python; done

base: ## Only find or make the base image (of DJANGO's Debian suite, or PYTHON's interpreter), and print its name
	@$(if $(strip $(PYTHON)),HOST_PYTHON=$(VENV)/bin/python docker/python/base.sh $(PYTHON),$(if $(filter $(DJANGO_DEFAULT),$(DJANGO)),,env -u BASE_IMAGE )docker/base-image.sh $(call django_suite,$(DJANGO)))

wheels: $(if $(strip $(PYTHON)),build/versions/wheels-py$(PYTHON).stamp,$(call django_wheels_stamp,$(DJANGO))) ## Download the image's Python wheels on the host (for DJANGO's Python, or PYTHON's ABI)

$(WHEELS)/.stamp: requirements.txt $(VENV)/.stamp
	rm -rf $(WHEELS) && mkdir -p $(WHEELS)
	$(VENV)/bin/pip download --quiet --no-deps --only-binary=:all: --dest $(WHEELS) \
		--python-version $(IMAGE_PYTHON) --implementation cp --abi cp$(subst .,,$(IMAGE_PYTHON)) \
		$(PLATFORMS) -r requirements.txt
	touch $@

# Another version's wheels, into its Python's wheelhouse. 4.2's go beside the default's, so
# they are fetched again whenever those are (the rule above empties the folder first).
build/versions/wheels-4.2.stamp: $(WHEELS)/.stamp
build/versions/wheels-%.stamp: requirements/django-%.txt $(VENV)/.stamp
	mkdir -p build/versions $(call django_wheels,$*)
	$(VENV)/bin/pip download --quiet --no-deps --only-binary=:all: --dest $(call django_wheels,$*) \
		--python-version $(call django_python,$*) --implementation cp --abi cp$(subst .,,$(call django_python,$*)) \
		$(OLD_PLATFORMS) -r $< 2>&1 | { grep -v '^DEPRECATION: pip has selected' || true; }
	touch $@

# PYTHON's wheels: one lock, the wheels of its ABI (cp314, or cp314t without the GIL).
build/versions/wheels-py%.stamp: requirements/python-3.14.txt $(VENV)/.stamp
	rm -rf $(call python_wheels,$*) && mkdir -p build/versions $(call python_wheels,$*)
	$(VENV)/bin/pip download --quiet --no-deps --only-binary=:all: --dest $(call python_wheels,$*) \
		--python-version 3.14 --implementation cp --abi cp314$(if $(filter %t,$*),t) $(PY314_PLATFORMS) -r $<
	touch $@

venv: $(VENV)/.stamp ## Make the host venv the tests run in

$(VENV)/.stamp: requirements.txt requirements-dev.txt
	$(HOST_PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

knobs: venv ## Write .env.example and docs/knobs.md from the knob registry (asynclab/knobs.py)
	$(VENV)/bin/python -m asynclab.knobs

# images: tests/compose/test_versions.py runs every Django's image (~7 min more from nothing).
test: venv lint build images secrets postgres-image browser ## Run every test: lint, the service tier on the host, then the compose tier (needs Docker)
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

bench-tax: venv ## Django's ASGI tax: thread hops and CPU per request, lab and LEAN beside bare Django, per ASGI server (~6 min)
	$(VENV)/bin/python -m bench.asgi_tax $(ARGS)

clean: ## Remove containers, the lab images, the venv and build/ (keeps the base images and PostgreSQL's data)
	-$(COMPOSE) --profile netem --profile loadgen --profile postgres --profile nginx down --remove-orphans
	-docker image rm $(LAB_IMAGE) $(foreach v,$(filter-out $(DJANGO_DEFAULT),$(DJANGO_VERSIONS)),$(call django_image,$(v))) $(foreach p,$(PYTHON_VERSIONS),$(call python_image,$(p))) $(POSTGRES_IMAGE) $(NETEM_IMAGE) $(EDGE_IMAGE)
	rm -rf $(VENV) build .pytest_cache

clean-base: ## Remove the local Debian base images too (the interpreters of PYTHON with them)
	-docker image rm asynclab-python:3.14 asynclab-python:3.14t asynclab-python-build:trixie asynclab-python-runtime:trixie
	-docker image rm asynclab-base:bookworm asynclab-base:bullseye asynclab-base:trixie asynclab-postgres-base:bookworm asynclab-netem-base:bookworm asynclab-nginx-base:bookworm
