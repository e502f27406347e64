# Sourced: pg_temp_start starts a throw-away PostgreSQL on 127.0.0.1 in a temp dir and exports
# SORSYNC_TEST_POSTGRES_URL; pg_temp_stop stops it and removes the dir. PostgreSQL refuses to run
# as root, so as root it runs as the `postgres` user.
pg_temp_start() {
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bindir" ]; then
    bindir=$(dirname "$(command -v initdb || echo /nonexistent/initdb)")
  fi
  [ -x "$bindir/initdb" ] || { echo "PostgreSQL server binaries (initdb) not found" >&2; return 1; }
  PG_TEMP_DIR=$(mktemp -d /tmp/sorsync-pg.XXXXXX)
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local as=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_TEMP_DIR"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bindir/initdb" -D "$PG_TEMP_DIR/data" -A trust -U postgres -E UTF8 >"$PG_TEMP_DIR/initdb.log" 2>&1 \
    || { cat "$PG_TEMP_DIR/initdb.log" >&2; return 1; }
  "${as[@]}" "$bindir/pg_ctl" -D "$PG_TEMP_DIR/data" -l "$PG_TEMP_DIR/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_TEMP_DIR -c max_connections=200 -c fsync=off" start >/dev/null \
    || { cat "$PG_TEMP_DIR/server.log" >&2; return 1; }
  PG_TEMP_BIN=$bindir
  PG_TEMP_AS=("${as[@]}")
  export SORSYNC_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "PostgreSQL started on 127.0.0.1:$port" >&2
}

pg_temp_stop() {
  if [ -n "${PG_TEMP_DIR:-}" ]; then
    "${PG_TEMP_AS[@]}" "$PG_TEMP_BIN/pg_ctl" -D "$PG_TEMP_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_TEMP_DIR"
  fi
}
