#!/usr/bin/env bash
# Requests nginx has handled so far (stub_status on 127.0.0.1:8081 inside the container,
# docker/nginx/nginx.conf): make edge-nginx reads it before and after a run, since nginx has
# no /telemetry. Each reading is itself one request: the caller subtracts it.
set -euo pipefail
docker exec "$1" bash -c 'exec 3<>/dev/tcp/127.0.0.1/8081 && printf "GET /status HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3 && cat <&3' \
    | awk 'found { print $3; exit } /^ *server accepts handled requests/ { found = 1 }'
