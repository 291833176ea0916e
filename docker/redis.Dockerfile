# Redis for CHANNEL_LAYER=redis (docs/chat.md): Channels' groups and queues, so a chat room
# spans the backend's workers. Built by `make redis-image` from a base that
# docker/base-image.sh finds or makes: the official redis:7-bookworm when a registry is
# reachable, else a Debian base with Debian's redis-server, so the install below is skipped
# and the build needs no network. Both run the same command line, never the official
# image's docker-entrypoint.sh, so both bases start alike.
ARG BASE_IMAGE=redis:7-bookworm
FROM ${BASE_IMAGE}
RUN command -v redis-server >/dev/null || { apt-get update \
        && apt-get install -y --no-install-recommends redis-server && rm -rf /var/lib/apt/lists/*; }
# Both bases have the redis user (the package's, the official image's).
USER redis
EXPOSE 6379
# A channel layer keeps nothing worth saving: no snapshots, no append-only file, so the
# read-only container writes nothing. On the internal data network only (no published
# port), so protected mode, which refuses every client but loopback without a password,
# is off.
ENTRYPOINT ["redis-server", "--bind", "0.0.0.0", "--port", "6379", "--protected-mode", "no", "--save", "", "--appendonly", "no", "--dir", "/tmp"]
