#!/usr/bin/env bash
# Runs "$@" with a throwaway PostgreSQL server on 127.0.0.1 and VOUCH_TEST_POSTGRES_URL pointing at it,
# so the coordinator's PostgreSQL tests run for real. Installs the server from Debian's packages when
# it is missing (needs root, as on CI). The cluster lives in a temporary directory and is removed.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/postgres" ]; then
  echo "==> installing postgresql"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
dir=$(mktemp -d)
chown postgres "$dir" 2>/dev/null || true
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg "$bin/initdb" -D "$dir/data" -U vouch --auth=trust >/dev/null
# The first free port from 55432 on (another cluster, or one still shutting down, may hold one).
for port in $(seq 55432 55447); do
  if as_pg "$bin/pg_ctl" -D "$dir/data" -o "-p $port -k $dir -c listen_addresses=127.0.0.1" -l "$dir/log" -w start >/dev/null; then
    break
  fi
  if [ "$port" = 55447 ]; then
    echo "with-postgres.sh: no free port in 55432-55447" >&2
    tail -5 "$dir/log" >&2
    exit 1
  fi
done
trap 'as_pg "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null; rm -rf "$dir"' EXIT
export VOUCH_TEST_POSTGRES_URL="postgres://vouch@127.0.0.1:$port"
echo "==> PostgreSQL $("$bin/postgres" --version | awk '{print $3}') at $VOUCH_TEST_POSTGRES_URL"
"$@"
