# The netem sidecar: tc (iproute2) and nothing else. Built by `make netem` from a base that
# docker/base-image.sh finds or makes (a Debian base with iproute2 when there is no
# registry, so the install below is skipped and the build needs no network).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN command -v tc >/dev/null || { apt-get update && apt-get install -y --no-install-recommends iproute2 \
    && rm -rf /var/lib/apt/lists/*; }
COPY netem.sh /usr/local/bin/netem
ENTRYPOINT ["/bin/sh", "/usr/local/bin/netem"]
