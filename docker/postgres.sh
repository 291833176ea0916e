#!/bin/sh
# The PostgreSQL image's entrypoint, the same on the official and on the Debian-package base.
# First start: initdb, TCP by SCRAM password from the container network, the lab's database.
# Every start: the role's password from POSTGRES_PASSWORD_FILE again, so a regenerated
# password file works with an old volume. Then one JSON startup line and exec postgres, which
# stays PID 1 so `docker stop` (SIGINT) reaches it. Bad settings exit 2 before anything runs.
#
# Works with --read-only and --cap-drop ALL: it writes only to $PGDATA and the socket folder.
set -eu

user=${POSTGRES_USER:-asynclab}
db=${POSTGRES_DB:-asynclab}
max_connections=${POSTGRES_MAX_CONNECTIONS:-100}
password_file=${POSTGRES_PASSWORD_FILE:-}
data=${PGDATA:?PGDATA must name the data folder}
# Where Debian-built clients (psql, pg_isready) look by default, on both bases.
sockets=/var/run/postgresql

die() { echo "postgres: $*" >&2; exit 2; }

[ "$(id -u)" != 0 ] || die "runs as the postgres user, not root (the image's USER; drop --user 0)"

# Names go into SQL as quoted identifiers: lower case keeps them valid and needing no escapes.
is_name() { case $1 in '' | [!abcdefghijklmnopqrstuvwxyz_]* | *[!abcdefghijklmnopqrstuvwxyz0123456789_]*) return 1;; esac; [ ${#1} -le 63 ]; }
is_name "$user" && case $user in pg_*) false;; esac \
    || die "POSTGRES_USER='$user' must be 1-63 of a-z 0-9 _, not starting with a digit or pg_"
is_name "$db" || die "POSTGRES_DB='$db' must be 1-63 of a-z 0-9 _, not starting with a digit"

case $max_connections in '' | 0* | *[!0123456789]*) max_connections_ok=false;; *) max_connections_ok=true;; esac
if ! $max_connections_ok || [ ${#max_connections} -gt 4 ] || [ "$max_connections" -lt 10 ] || [ "$max_connections" -gt 1000 ]; then
    die "POSTGRES_MAX_CONNECTIONS='$max_connections' must be an integer from 10 to 1000"
fi

[ -n "$password_file" ] || die "POSTGRES_PASSWORD_FILE is not set: it must name a file holding the password"
# docker makes a folder where a bind-mounted file is missing on the host.
[ -f "$password_file" ] || die "POSTGRES_PASSWORD_FILE=$password_file is not a file (missing on the host?)"
[ -r "$password_file" ] || die "POSTGRES_PASSWORD_FILE=$password_file is not readable by uid $(id -u) (make it 0644 on the host)"
[ -s "$password_file" ] || die "POSTGRES_PASSWORD_FILE=$password_file is empty"
password=$(cat "$password_file")  # drops the trailing newline(s)
# The character set keeps the password safe inside '...' in SQL and on initdb's --pwfile line.
case $password in
    *[!ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-]*) password_ok=false;;
    *) password_ok=true;;
esac
if ! $password_ok || [ ${#password} -lt 16 ] || [ ${#password} -gt 128 ]; then
    die "POSTGRES_PASSWORD_FILE=$password_file must hold one line of 16-128 characters of A-Z a-z 0-9 . _ ~ -"
fi

# With --read-only the image's folder is not writable: it needs a tmpfs, which takes the
# folder's world-writable mode. Checked here because postgres would only say so after the
# SQL below had run.
[ -d "$sockets" ] && [ -w "$sockets" ] \
    || die "$sockets is not writable by uid $(id -u): mount a tmpfs there (--tmpfs $sockets)"

# Runs SQL lines in single-user mode: no server, no socket, no port while it runs. Its
# output is shown only on failure; statements are never logged, as one holds the password.
single_user() {
    if ! out=$(printf '%s\n' "$@" | postgres --single -D "$data" -c log_min_error_statement=panic postgres 2>&1) \
            || printf '%s\n' "$out" | grep -q -E '(ERROR|FATAL|PANIC):  '; then
        printf '%s\n' "$out" | sed -e 's/^\(backend> \)*//' -e '/^PostgreSQL stand-alone backend/d' -e '/^$/d' >&2
        return 1
    fi
}

initialised=false
if [ ! -s "$data/PG_VERSION" ]; then
    # initdb refuses a non-empty folder on its own, with a message saying so.
    if ! out=$(initdb --pgdata="$data" --username="$user" --pwfile="$password_file" \
            --encoding=UTF8 --locale=C.UTF-8 --auth-host=scram-sha-256 --auth-local=trust \
            --no-instructions 2>&1); then
        printf '%s\n' "$out" >&2
        exit 1
    fi
    # initdb's host lines cover 127.0.0.1 and ::1; the lab's clients are other containers.
    printf '%s\n' '' '# asynclab: clients on the container network, by SCRAM password' \
        'host all all all scram-sha-256' >>"$data/pg_hba.conf"
    case $db in
        postgres | template0 | template1) ;;
        *) single_user "CREATE DATABASE \"$db\" OWNER \"$user\"" \
               || die "could not create database $db (above)";;
    esac
    initialised=true
else
    single_user "ALTER ROLE \"$user\" WITH PASSWORD '$password'" \
        || die "could not set the password of role $user (above): was $data initialised with another POSTGRES_USER?"
fi

version=$(postgres --version)        # postgres (PostgreSQL) 15.x (Debian 15.x-...)
version=${version#*) }
version=${version%% *}
printf '{"event": "startup", "service": "postgres", "version": "%s", "max_connections": %s, "initialised": %s}\n' \
    "$version" "$max_connections" "$initialised"
exec postgres -D "$data" -c listen_addresses='*' -c max_connections="$max_connections" \
    -c unix_socket_directories="$sockets" "$@"
