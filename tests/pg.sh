#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests, in a directory of its own.
#
#   pg.sh start DIR    initdb in DIR/data, serve on a Unix socket in DIR
#                      (no TCP), print the base URI, e.g.
#                      postgresql:///postgres?host=DIR&user=pcmds
#   pg.sh replica PRIMARY DIR
#                      a streaming replica (hot standby) of the cluster in
#                      PRIMARY, by pg_basebackup, served in DIR the same way
#   pg.sh stop DIR     stop it (immediately) and remove DIR
#
# PostgreSQL refuses to run as root, so as root (CI) it runs as nobody,
# owning DIR. No system service is touched. fsync is off: the tests
# crash pcmdsd, never the machine (make bench starts one with fsync on:
# PCMDS_PG_FSYNC=on).
set -euo pipefail

bindir=$(pg_config --bindir 2>/dev/null || true)
[ -x "$bindir/initdb" ] || bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null |
	sort -V | tail -1)
[ -x "$bindir/initdb" ] || { echo "PostgreSQL server not installed" >&2; exit 1; }

as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u nobody -- "$@"
	else
		"$@"
	fi
}

cmd=${1:-}
dir=${2:-}
[ -n "$dir" ] || { echo "usage: pg.sh start|stop DIR" >&2; exit 2; }

serve() {
	as_owner "$bindir/pg_ctl" -D "$1/data" -l "$1/server.log" -w \
		-o "-c listen_addresses='' -c unix_socket_directories='$1' \
		-c fsync=${PCMDS_PG_FSYNC:-off} -c max_connections=300 \
		-c shared_buffers=64MB" start >/dev/null ||
		{ cat "$1/server.log" >&2; exit 1; }
	echo "postgresql:///postgres?host=$1&user=pcmds"
}
case "$cmd" in
start)
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && chown nobody "$dir"
	chmod 0700 "$dir"
	as_owner "$bindir/initdb" -D "$dir/data" -U pcmds --auth=trust \
		-E UTF8 --locale=C.UTF-8 --no-sync --no-instructions >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	serve "$dir"
	;;
replica)
	primary=$dir
	dir=${3:-}
	[ -n "$dir" ] || { echo "usage: pg.sh replica PRIMARY DIR" >&2; exit 2; }
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && chown nobody "$dir"
	chmod 0700 "$dir"
	# -R: standby.signal and primary_conninfo, so it follows the primary
	as_owner "$bindir/pg_basebackup" -h "$primary" -U pcmds -D "$dir/data" \
		-R -X stream --checkpoint=fast >"$dir/basebackup.log" 2>&1 ||
		{ cat "$dir/basebackup.log" >&2; exit 1; }
	serve "$dir"
	;;
stop)
	if [ -d "$dir/data" ]; then
		as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop \
			>/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
	;;
*)
	echo "usage: pg.sh start|stop DIR" >&2
	exit 2
	;;
esac
