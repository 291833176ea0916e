# asynclab: `make help` lists the targets. A knob (.env.example) given on the command line
# reaches compose through the environment (make exports it); unset, .env's value applies.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# docker compose v2 when the plugin is there, else Debian's docker-compose 1.29.
COMPOSE ?= $(shell if docker compose version >/dev/null 2>&1; then echo "docker compose"; else echo docker-compose; fi)
# The host's Python, for the venv and make's own small scripts (PYTHON is a knob, below).
HOST_PYTHON ?= python3
VENV := .venv
WHEELS := build/wheels
LAB_IMAGE ?= asynclab:latest
# loadgen records the commit it measured, -dirty when the tree has changes no commit has.
GIT_COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null)$(shell git diff --quiet HEAD -- 2>/dev/null || echo -dirty)
# A path compose reads as a folder: it must start with ./ or /.
RESULTS_DIR ?= ./results
BASE_IMAGE ?= python:3.11-slim-bookworm
# The wheelhouse is for the image's Python, not the host's; pip does not widen manylinux tags.
IMAGE_PYTHON := 3.11
ARCH := $(shell uname -m)
PLATFORMS := $(foreach n,36 35 34 33 32 31 30 29 28 27 26 25 24 23 22 21 20 19 18 17,--platform manylinux_2_$(n)_$(ARCH)) --platform manylinux2014_$(ARCH)
# Wheels of 2020-21 (uvloop 0.15, httptools 0.1) carry only the older manylinux tags.
OLD_PLATFORMS := $(PLATFORMS) $(foreach tag,manylinux2010 manylinux1 manylinux_2_12 manylinux_2_5,--platform $(tag)_$(ARCH))

# DJANGO (docs/versions.md): each its lock, Python, suite, image; loadgen keeps the default's.
DJANGO ?= 5.2
DJANGO_DEFAULT := 5.2
DJANGO_VERSIONS := 3.1 3.2 4.2 5.2 6.1
ifeq ($(filter $(DJANGO),$(DJANGO_VERSIONS)),)
$(error DJANGO=$(DJANGO): choose one of $(DJANGO_VERSIONS))
endif
django_suite = $(if $(filter 3.1 3.2,$(1)),bullseye,$(if $(filter 6.1,$(1)),trixie,bookworm))
django_python = $(if $(filter 3.1 3.2,$(1)),3.9,$(if $(filter 6.1,$(1)),3.13,3.11))
django_requirements = $(if $(filter $(DJANGO_DEFAULT),$(1)),requirements.txt,requirements/django-$(1).txt)
# One wheelhouse per image: a build copies its wheelhouse whole, so an image sharing one is
# rebuilt whenever another's wheels land in it (4.2's beside the default's cost every cold
# `make images` a second two-minute build of the default image).
django_wheels = $(if $(filter $(DJANGO_DEFAULT),$(1)),$(WHEELS),build/wheels-django-$(1))
django_wheels_stamp = $(if $(filter $(DJANGO_DEFAULT),$(1)),$(WHEELS)/.stamp,build/versions/wheels-$(1).stamp)
django_image = $(if $(filter $(DJANGO_DEFAULT),$(1)),$(LAB_IMAGE),$(firstword $(subst :, ,$(LAB_IMAGE))):django-$(1))
# PYTHON (docs/versions.md): CPython 3.14 built here with and without the GIL, on PYTHON_DJANGO.
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
# Derived, never from the environment: an outer make's value must not leak into a sub-make.
DJANGO_IMAGE = $(if $(strip $(PYTHON)),$(call python_image,$(PYTHON)),$(call django_image,$(DJANGO)))

help: ## List the targets
	@echo "asynclab: measure what async Django buys you. Targets:"
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'
	@echo "Campaigns (campaigns/: python -m campaigns NAME --dry-run shows what one runs):"
	@$(HOST_PYTHON) -m campaigns --list | awk -F'\t' '{printf "  make %-13s %s\n", $$1, $$2}'
	@echo "Knobs (defaults in .env.example): make up SERVER_MODE=asgi WORKERS=2 ..."

# The campaigns (campaigns/): make puts the venv, image, results folder and secrets in place.
CAMPAIGNS := lab reference servers versions streams streams-5k edge-nginx db pinning faults freethreaded capacity chat chat-5k
$(CAMPAIGNS): venv build results secrets
	@COMPOSE="$(COMPOSE)" $(VENV)/bin/python -m campaigns $@

# A side image $(1): its base (docker/base-image.sh with $(2)), Dockerfile $(3), context $(4).
define side_image
@mkdir -p build
@base=$$($(2) docker/base-image.sh); \
	docker build --build-arg BASE_IMAGE=$$base --tag $(1) -f $(3) $(4) > build/$(5)-build.log 2>&1 \
	|| { tail -n 20 build/$(5)-build.log; exit 1; }
endef

edge-image: ## Build the nginx image EDGE=nginx puts in front of the gateway (from Debian packages offline)
	$(call side_image,$(EDGE_IMAGE),BASE_IMAGE=nginx:1.26-bookworm LOCAL_BASE_IMAGE=asynclab-nginx-base:bookworm BASE_PACKAGES=nginx BASE_WORKDIR=build/base-nginx,docker/nginx/Dockerfile,docker/nginx,edge)

# DB=postgres and EDGE=nginx (nginx in front of the gateway, which loadgen then loads through
# it): their services' profiles, and the images they add for every target that starts them.
DB ?= sqlite
POSTGRES_SECRET_FILE ?= ./build/postgres-password
EDGE ?= none
EDGE_IMAGE ?= asynclab-nginx:latest
PROFILES := $(if $(filter postgres,$(DB)),--profile postgres) $(if $(filter nginx,$(EDGE)),--profile nginx) $(if $(filter redis,$(CHANNEL_LAYER)),--profile redis)
LOADGEN_EDGE := $(if $(filter nginx,$(EDGE)),-e LOADGEN_GATEWAY_URL=http://edge:8080)
SERVICE_IMAGES = $(if $(filter postgres,$(DB)),postgres-image) $(if $(filter nginx,$(EDGE)),edge-image) $(if $(filter redis,$(CHANNEL_LAYER)),redis-image)

up: build secrets $(SERVICE_IMAGES) ## Start backend and gateway (SERVER_MODE=wsgi|asgi|runserver, DB=sqlite|postgres, EDGE=none|nginx) and wait until healthy
	$(COMPOSE) $(PROFILES) up -d --remove-orphans
	@docker/wait-healthy.sh $(COMPOSE) -- backend gateway $(if $(filter nginx,$(EDGE)),edge)
	@$(COMPOSE) logs --no-color backend gateway | grep '"event": "startup"' | tail -n 2
	@echo "gateway: http://localhost:$${GATEWAY_PORT:-8000}/api/aggregated/   backend: http://localhost:$${BACKEND_PORT:-8001}/api/"

down: ## Stop and remove the lab's containers and networks (PostgreSQL's volume stays: make clean-db)
	$(COMPOSE) --profile netem --profile loadgen --profile postgres --profile nginx --profile redis down --remove-orphans
clean-db: ## Remove PostgreSQL's data volume (the next DB=postgres start initialises a new one)
	$(COMPOSE) --profile netem --profile loadgen --profile postgres --profile nginx --profile redis down --remove-orphans --volumes

# The secrets, written once, never in the repo (campaigns/secrets.py).
LOADGEN_SECRET_FILE ?= ./build/loadgen-secret
secrets:
	@$(HOST_PYTHON) -m campaigns.secrets "PostgreSQL password=$(POSTGRES_SECRET_FILE)" "loadgen replicas' secret=$(LOADGEN_SECRET_FILE)"

logs: ## Follow the services' logs
	$(COMPOSE) logs -f --tail=100
ps: ## Show the services and their health
	$(COMPOSE) ps
loadgen: build results secrets ## Run loadgen against the running stack: make loadgen ARGS="sweep --levels 1,10"
	$(COMPOSE) run --rm --no-deps $(LOADGEN_EDGE) loadgen $(ARGS)

# --- Docker Swarm (docs/swarm.md): swarm/ (python -m swarm COMMAND) does the rest.
REGISTRY_IMAGE ?= asynclab-registry:latest
SWARM_TARGETS := swarm-stack swarm-up swarm-down swarm-push swarm-lab
swarm-stack: venv secrets ## Write the swarm stack file from docker-compose.yml and the knobs (build/stack-SWARM_STACK.yml)
swarm-up: venv build secrets $(SERVICE_IMAGES) ## Deploy the lab as a swarm stack (needs an active swarm) and wait until every task is healthy
swarm-down: venv ## Remove the stack and wait until its networks are gone (the swarm itself stays)
swarm-push: venv build $(SERVICE_IMAGES) $(if $(REGISTRY),,registry-image) ## Push the stack's images to REGISTRY (or a local registry on 127.0.0.1:REGISTRY_PORT)
swarm-lab: swarm-up ## The article table and a short sweep on the swarm, with LOADGEN_REPLICAS loadgen replicas merged (~2.5 min)
$(SWARM_TARGETS):
	@$(VENV)/bin/python -m swarm $(patsubst swarm-%,%,$@)
registry-image:
	$(call side_image,$(REGISTRY_IMAGE),BASE_IMAGE=registry:2 LOCAL_BASE_IMAGE=asynclab-registry-base:bookworm BASE_PACKAGES=docker-registry BASE_WORKDIR=build/base-registry,docker/registry/Dockerfile,docker/registry,registry)

NETEM_IMAGE ?= asynclab-netem:latest
netem: netem-image ## Add NETEM_DELAY (50ms) of latency to all the backend sends (after make up)
	$(COMPOSE) --profile netem up -d --no-deps netem
	@COMPOSE="$(COMPOSE)" $(HOST_PYTHON) -m campaigns.netem
netem-off: ## Remove the latency make netem added
	$(COMPOSE) --profile netem rm --stop --force netem
netem-image:
	$(call side_image,$(NETEM_IMAGE),BASE_IMAGE=debian:bookworm-slim LOCAL_BASE_IMAGE=asynclab-netem-base:bookworm BASE_PACKAGES=iproute2,docker/netem.Dockerfile,docker,netem)
POSTGRES_IMAGE ?= asynclab-postgres:latest
# Debian's postgresql-15 creates a cluster on install (39 MB) that the image never uses.
postgres-image: ## Build the PostgreSQL image (from Debian packages when no registry is reachable)
	$(call side_image,$(POSTGRES_IMAGE),BASE_IMAGE=postgres:15-bookworm LOCAL_BASE_IMAGE=asynclab-postgres-base:bookworm BASE_PACKAGES=postgresql-15 BASE_CUSTOMIZE_HOOK='rm -rf "$$1"/etc/postgresql/15 "$$1"/var/lib/postgresql/15',docker/postgres.Dockerfile,docker,postgres)
REDIS_IMAGE ?= asynclab-redis:latest
redis-image: ## Build the Redis image CHANNEL_LAYER=redis adds (from Debian packages when no registry is reachable)
	$(call side_image,$(REDIS_IMAGE),BASE_IMAGE=redis:7-bookworm LOCAL_BASE_IMAGE=asynclab-redis-base:bookworm BASE_PACKAGES=redis-server BASE_WORKDIR=build/base-redis,docker/redis.Dockerfile,docker,redis)
report: results ## Render results/ to results/report.md and results/report.html (self-contained, opens offline)
	@$(COMPOSE) run --rm --no-deps loadgen report
	@echo "report: $(RESULTS_DIR)/report.md (PNG plots beside it) and $(RESULTS_DIR)/report.html (one file: open it in a browser)"
browser: ## Install Chromium for the report's browser test (apt, as root), unless it is on PATH
	@$(HOST_PYTHON) -m campaigns.browser
results:
	@mkdir -p $(RESULTS_DIR)

# Image $(1): base from command $(2) (for $(3), $(7)), lock $(5), wheels $(6), log $(4).
define docker_build
@mkdir -p build/versions; \
	base=$$($(2)); echo "base image: $$base ($(3), $(7))"; start=$$(date +%s); log=$(4); \
	docker build --build-arg BASE_IMAGE=$$base --build-arg REQUIREMENTS=$(5) --build-arg WHEELS=$(6) --tag $(1) . > $$log 2>&1 \
		|| { tail -n 30 $$log; echo "docker build failed: full log in $$log"; exit 1; }; \
	echo "built $(1) in $$(( $$(date +%s) - start )) s ($$(docker image inspect -f '{{.Size}}' $(1) | awk '{printf "%d MB", $$1/1e6}'))"
endef
# Django $(1)'s image (BASE_IMAGE is the default's only), and PYTHON=$(1)'s (base.sh compiles it).
build_image = $(call docker_build,$(call django_image,$(1)),$(if $(filter $(DJANGO_DEFAULT),$(1)),,env -u BASE_IMAGE )docker/base-image.sh $(call django_suite,$(1)),Django $(1),build/docker-build$(if $(filter $(DJANGO_DEFAULT),$(1)),,-django-$(1)).log,$(call django_requirements,$(1)),$(call django_wheels,$(1)),Python $(call django_python,$(1)))
build_python_image = $(call docker_build,$(call python_image,$(1)),HOST_PYTHON=$(VENV)/bin/python docker/python/base.sh $(1),CPython $(1),build/docker-build-py$(1).log,requirements/python-3.14.txt,$(call python_wheels,$(1)),Django $(PYTHON_DJANGO))

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

print-django-image: # for scripts and tests: make -s print-django-image DJANGO=3.1
	@echo $(DJANGO_IMAGE)

images: ## Build the image of every Django version and of every PYTHON (docs/versions.md)
	@MAKE="$(MAKE)" $(HOST_PYTHON) -m campaigns.images

base: ## Only find or make the base image (of DJANGO's Debian suite, or PYTHON's interpreter), and print its name
	@$(if $(strip $(PYTHON)),HOST_PYTHON=$(VENV)/bin/python docker/python/base.sh $(PYTHON),$(if $(filter $(DJANGO_DEFAULT),$(DJANGO)),,env -u BASE_IMAGE )docker/base-image.sh $(call django_suite,$(DJANGO)))

wheels: $(if $(strip $(PYTHON)),build/versions/wheels-py$(PYTHON).stamp,$(call django_wheels_stamp,$(DJANGO))) ## Download the image's Python wheels on the host (for DJANGO's Python, or PYTHON's ABI)

# The wheels of the lock $(5) for Python $(2), ABI $(3), platforms $(4), into $(1).
pip_download = $(VENV)/bin/pip download --quiet --no-deps --only-binary=:all: --dest $(1) --python-version $(2) --implementation cp --abi $(3) $(4) -r $(5)
$(WHEELS)/.stamp: requirements.txt $(VENV)/.stamp
	rm -rf $(WHEELS) && mkdir -p $(WHEELS)
	$(call pip_download,$(WHEELS),$(IMAGE_PYTHON),cp$(subst .,,$(IMAGE_PYTHON)),$(PLATFORMS),requirements.txt)
	touch $@

# Another version's wheels, in a wheelhouse of its own.
build/versions/wheels-%.stamp: requirements/django-%.txt $(VENV)/.stamp
	mkdir -p build/versions $(call django_wheels,$*)
	$(call pip_download,$(call django_wheels,$*),$(call django_python,$*),cp$(subst .,,$(call django_python,$*)),$(OLD_PLATFORMS),$<) 2>&1 \
		| { grep -v '^DEPRECATION: pip has selected' || true; }
	touch $@

# PYTHON's wheels: one lock, the wheels of its ABI (cp314, or cp314t without the GIL).
build/versions/wheels-py%.stamp: requirements/python-3.14.txt $(VENV)/.stamp
	rm -rf $(call python_wheels,$*) && mkdir -p build/versions $(call python_wheels,$*)
	$(call pip_download,$(call python_wheels,$*),3.14,cp314$(if $(filter %t,$*),t),$(PY314_PLATFORMS),$<)
	touch $@

venv: $(VENV)/.stamp ## Make the host venv the tests run in

$(VENV)/.stamp: requirements.txt requirements-dev.txt
	$(HOST_PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

knobs: venv ## Write .env.example, docs/knobs.md and docs/servers.md's servers table from the registries (asynclab/knobs/)
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
bench-capacity: venv ## Does hey (Debian's, not the lab's) agree with loadgen capacity at 90 % and 130 % of the rate it found? (~2 min)
	$(VENV)/bin/python -m bench.capacity_check $(ARGS)
bench-first: venv ## A fresh worker's first requests with the warm-up on and off (~1 min)
	$(VENV)/bin/python -m bench.first_requests
bench-freethreaded: venv build ## What a shared constant costs two threads on 3.14t beside 3.14: CPU per thread, one thread and two (~1 min; needs make images)
	$(VENV)/bin/python -m bench.constants

bench-tax: venv ## Django's ASGI tax: thread hops and CPU per request, lab and LEAN beside bare Django, per ASGI server (~6 min)
	$(VENV)/bin/python -m bench.asgi_tax $(ARGS)

clean: ## Remove containers, the lab images, the venv and build/ (keeps the base images and PostgreSQL's data)
	-$(COMPOSE) --profile netem --profile loadgen --profile postgres --profile nginx --profile redis down --remove-orphans
	-docker image rm $(LAB_IMAGE) $(foreach v,$(filter-out $(DJANGO_DEFAULT),$(DJANGO_VERSIONS)),$(call django_image,$(v))) $(foreach p,$(PYTHON_VERSIONS),$(call python_image,$(p))) $(POSTGRES_IMAGE) $(NETEM_IMAGE) $(EDGE_IMAGE)
	rm -rf $(VENV) build .pytest_cache
clean-base: ## Remove the local Debian base images too (the interpreters of PYTHON with them)
	-docker image rm asynclab-python:3.14 asynclab-python:3.14t asynclab-python-build:trixie asynclab-python-runtime:trixie asynclab-base:bookworm asynclab-base:bullseye asynclab-base:trixie asynclab-postgres-base:bookworm asynclab-netem-base:bookworm asynclab-nginx-base:bookworm

.PHONY: help images print-django-image edge-image up down logs ps loadgen netem netem-off netem-image postgres-image redis-image secrets report browser results build base wheels venv knobs test test-service lint format bench bench-capacity bench-edge bench-first bench-freethreaded bench-tax clean clean-base clean-db
.PHONY: $(CAMPAIGNS) $(SWARM_TARGETS) registry-image
# What compose and the campaigns read from make; last, as `export` defines a name ?= then skips.
export LAB_IMAGE GIT_COMMIT RESULTS_DIR DJANGO DJANGO_IMAGE DB EDGE_IMAGE POSTGRES_SECRET_FILE LOADGEN_SECRET_FILE
export REGISTRY_IMAGE NETEM_IMAGE POSTGRES_IMAGE REDIS_IMAGE
