# PostgreSQL 15 for the lab. Built by `make postgres-image` from a base that
# docker/base-image.sh finds or makes: the official postgres:15-bookworm when a registry is
# reachable, else a Debian base with postgresql-15, so the install below is skipped and the
# build needs no network. Both run docker/postgres.sh, never the official image's
# docker-entrypoint.sh, so both bases start, initialise and fail alike.
ARG BASE_IMAGE=postgres:15-bookworm
FROM ${BASE_IMAGE}
# Debian's packages keep the server binaries off PATH (pg_ctlcluster wraps them); the lab
# calls initdb, postgres, psql and pg_isready directly. PGDATA is a subfolder of the volume
# so initdb creates it with the 0700 mode it insists on, whatever the volume's root is.
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data/pgdata
# A new named volume copies the owner of its mount point, so postgres can write the volume.
# On the official base the mount point is a declared VOLUME already owned by postgres, and
# this step's change to it is discarded. A tmpfs mounted on the socket folder takes the
# folder's mode (not its owner): world-writable, so a plain --tmpfs needs no uid= or mode=.
RUN { [ -x /usr/lib/postgresql/15/bin/postgres ] || { apt-get update \
        && apt-get install -y --no-install-recommends postgresql-15 && rm -rf /var/lib/apt/lists/*; }; } \
    && install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data \
    && install -d -o postgres -g postgres -m 3777 /run/postgresql
COPY postgres.sh /usr/local/bin/postgres-entrypoint
USER postgres
EXPOSE 5432
# SIGINT is postgres's "fast shutdown": it ends sessions and checkpoints at once, where
# docker's default SIGTERM would wait for every client to disconnect ("smart" shutdown).
STOPSIGNAL SIGINT
ENTRYPOINT ["/bin/sh", "/usr/local/bin/postgres-entrypoint"]
