# Sourced by demo.sh and bench/postgres.sh: a PostgreSQL 15 cluster of their own, in a directory
# of theirs, as user postgres (initdb refuses root), trust authentication, loopback only, its
# Unix socket in that directory. pg_cluster_start DIR PORT; pg_cluster_stop DIR.
pg_bin=/usr/lib/postgresql/15/bin

pg_cluster_start() {
  local dir=$1 port=$2
  pg_cluster_stop "$dir"
  rm -rf "$dir" && mkdir -p "$dir" && chown postgres:postgres "$dir"
  runuser -u postgres -- "$pg_bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >/dev/null
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
}

pg_cluster_stop() {
  local dir=$1
  if [ -f "$dir/data/postmaster.pid" ]; then
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}
