# One image for every service of the lab. Classic-builder syntax only (no BuildKit
# features), because docker-compose 1.29 builds with the classic builder and a machine with
# no registry cannot fetch a BuildKit frontend.
#
# BASE_IMAGE is an official slim Python when a registry is reachable; otherwise the Makefile
# passes a local base made from Debian packages (docker/base-image.sh). Either way the
# Python packages come from build/wheels, downloaded on the host, so the build needs no
# network.
#
# DJANGO (docs/versions.md) picks the other three: each Django version's lock
# (requirements/django-3.1.txt ...; requirements.txt is the default 5.2's) on a Python it
# supports, with that Python's wheelhouse. `make build DJANGO=3.1` sets them.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS deps
ARG REQUIREMENTS=requirements.txt
ARG WHEELS=build/wheels
# Only what decides the dependencies, so a code change never reinstalls them.
COPY ${REQUIREMENTS} /tmp/requirements.txt
COPY ${WHEELS}/ /tmp/wheels/
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheels -r /tmp/requirements.txt \
 && /opt/venv/bin/pip uninstall -y pip

FROM ${BASE_IMAGE}
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /app lab
# The venv alone crosses over: the wheels stay in the build stage.
COPY --from=deps /opt/venv /opt/venv
# Metadata before the code: every classic-builder step commits a layer (seconds each on
# some storage drivers), and only the steps after a changed COPY re-run.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app \
    MPLCONFIGDIR=/tmp/matplotlib
WORKDIR /app
USER lab
EXPOSE 8000
ENTRYPOINT ["python", "-m", "asynclab.entrypoint"]
CMD ["backend"]
# The code stays root-owned: the server may read it, never rewrite it.
COPY asynclab/ /app/asynclab/
COPY backend/ /app/backend/
COPY gateway/ /app/gateway/
COPY loadgen/ /app/loadgen/
