#!/usr/bin/env bash
# make demo: a whole pcmds deployment on this machine, in under a minute.
#
#   demo.sh [--serve] [--store postgresql] BUILD_DIR
#
# pcmdsd init makes a server with its own development CA; a link worker is
# enrolled for each of the seven North East London places, plus a place
# lead and an evaluator; each link worker's client records a synthetic
# caseload offline with the real pcmds commands, then syncs; the
# evaluator's pcmds report prints impact per place and ONS4 change. With
# --serve the server keeps running for the dashboard until Ctrl-C.
#
# With --store postgresql (make demo STORE=postgresql, or make
# demo-cluster) the same on PostgreSQL, with two servers behind HAProxy
# (TCP, TLS passed through): a PostgreSQL of its own in a temporary
# directory (tests/pg.sh, no system service), removed at the end.
#
# Each client's store is encrypted with a passphrase, given here as a
# script gives it (--passphrase-fd); pcmds unlock asks for it once per
# device, so the commands that follow do not.
#
# Deterministic: PCMDS_DEMO_SEED (default 42) fixes the caseload;
# PCMDS_DEMO_RESIDENTS (default 5700) is the residents per referral, so a
# larger number makes a smaller caseload (the tests use one).
set -euo pipefail

serve=0
store=sqlite
while [ $# -gt 1 ]; do
	case "$1" in
	--serve) serve=1; shift ;;
	--store) store=$2; shift 2 ;;
	*) break ;;
	esac
done
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
seed=${PCMDS_DEMO_SEED:-42}
residents=${PCMDS_DEMO_RESIDENTS:-5700}
pcmds="$build/pcmds"
pcmdsd="$build/pcmdsd"
dir=$(mktemp -d "${TMPDIR:-/tmp}/pcmds-demo.XXXXXX")
started=$SECONDS
server=
server2=
lb=
pg=

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

cleanup() {
	local h
	for h in "$dir"/client-* "$dir/evaluator"; do
		[ -d "$h" ] && "$pcmds" --home "$h" lock >/dev/null 2>&1
	done
	for p in $lb $server2 $server; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	[ -n "$pg" ] && bash "$here/../tests/pg.sh" stop "$pg"
	if [ "${PCMDS_DEMO_KEEP:-0}" = 1 ]; then
		echo "demo files kept in $dir"
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=$((18443 + RANDOM % 2000))
while ! port_free "$port"; do port=$((port + 1)); done

# Starts pcmdsd for the deployment in $1 on port $2; its pid in $started_pid.
# In a session of its own, so that a Ctrl-C reaches this script alone:
# the server, which stops on SIGINT too, could otherwise end first and
# the wait for it return before the trap had run. cleanup stops it.
start_server() {
	setsid "$pcmdsd" --config "$1/pcmdsd.conf" serve >"$1/server.log" 2>&1 &
	started_pid=$!
	for _ in $(seq 1 200); do
		port_free "$2" || return 0
		sleep 0.05
	done
	cat "$1/server.log"
	exit 1
}

if [ "$store" = postgresql ]; then
	say "1. PostgreSQL, two servers on it, HAProxy in front"
	pg=$(mktemp -d /tmp/pcmds-demo-pg.XXXXXX)
	cluster=$(bash "$here/../tests/pg.sh" start "$pg")
	psql -q "$cluster" -c "CREATE DATABASE pcmds"
	database="postgresql:///pcmds?host=$pg&user=pcmds"
	echo "   PostgreSQL 15 on a Unix socket in $pg (no TCP, no service)"
	"$pcmdsd" init --dir "$dir/server" --listen "127.0.0.1:$port" \
	    --database "$database" | sed 's/^/   /'
	# the second server: the same secret, certificate and database
	port2=$((port + 1))
	while ! port_free "$port2"; do port2=$((port2 + 1)); done
	cp -r "$dir/server" "$dir/server2"
	sed -i "s/^listen = .*/listen = 127.0.0.1:$port2/" \
	    "$dir/server2/pcmdsd.conf"
	start_server "$dir/server" "$port"
	server=$started_pid
	start_server "$dir/server2" "$port2"
	server2=$started_pid
	lbport=$((port2 + 1))
	while ! port_free "$lbport"; do lbport=$((lbport + 1)); done
	cat >"$dir/haproxy.cfg" <<-EOF
	global
	  maxconn 1000
	defaults
	  mode tcp
	  timeout connect 2s
	  timeout client 60s
	  timeout server 60s
	  retries 3
	  option redispatch
	frontend pcmds
	  bind 127.0.0.1:$lbport
	  default_backend servers
	backend servers
	  balance roundrobin
	  server one 127.0.0.1:$port check inter 500ms
	  server two 127.0.0.1:$port2 check inter 500ms
	EOF
	haproxy -db -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 &
	lb=$!
	for _ in $(seq 1 100); do
		port_free "$lbport" || break
		sleep 0.05
	done
	url="https://localhost:$lbport"
	echo "   pcmdsd on ports $port and $port2, HAProxy at $url (TLS"
	echo "   passed through: the clients verify the servers' certificate)"
else
	say "1. A server: pcmdsd init (configuration, places, database, CA, certificate)"
	"$pcmdsd" init --dir "$dir/server" --listen "127.0.0.1:$port" |
		sed 's/^/   /'
	start_server "$dir/server" "$port"
	server=$started_pid
	url="https://localhost:$port"
	echo "   serving $url (TLS 1.2+; log: server.log)"
fi

say "2. People: a link worker per place, a place lead and an evaluator"
code_of() { sed -n 's/.*"code":"\([^"]*\)".*/\1/p'; }
places="BD CH HV NH RB TH WF"
declare -A worker_code
for p in $places; do
	worker_code[$p]=$("$pcmdsd" --config "$dir/server/pcmdsd.conf" user add \
	    --role link_worker --place "$p" --name "Demo link worker $p" \
	    --json | code_of)
done
lead_code=$("$pcmdsd" --config "$dir/server/pcmdsd.conf" user add \
    --role place_lead --place NH --name "Demo place lead" --json | code_of)
eval_code=$("$pcmdsd" --config "$dir/server/pcmdsd.conf" user add \
    --role evaluator --name "Demo evaluator" --json | code_of)
"$pcmdsd" --config "$dir/server/pcmdsd.conf" user list | sed 's/^/   /'
# each place's directory of community assets (made up for the demo)
"$pcmdsd" --config "$dir/server/pcmdsd.conf" assets import \
    "$here/assets-example.csv" | sed 's/^/   /'

say "3. Clients: one deployment key; pcmds setup enrols each device"
"$pcmds" keygen --out "$dir/deploy.key" 2>/dev/null
# the demo's passphrase, in a file as a script would keep it
printf 'demo passphrase, not for real records\n' >"$dir/passphrase"
chmod 0600 "$dir/passphrase"
for p in $places; do
	"$pcmds" --home "$dir/client-$p" --passphrase-fd 3 setup \
	    --key-file "$dir/deploy.key" --server "$url" \
	    --code "${worker_code[$p]}" --cacert "$dir/server/ca.pem" \
	    3<"$dir/passphrase" 2>"$dir/setup-$p.err" | sed 's/^/   /' ||
	    { cat "$dir/setup-$p.err"; exit 1; }
done
echo "   each store is encrypted (AES-256-GCM); its recovery key was printed"
echo "   once, for the worker's manager; unlocking them all at once:"
unlocking=()
for p in $places; do
	"$pcmds" --home "$dir/client-$p" --passphrase-fd 3 unlock \
	    3<"$dir/passphrase" 2>/dev/null &
	unlocking+=($!)
done
wait "${unlocking[@]}"
echo "   each device receives its place's directory of community assets"
for p in $places; do
	"$pcmds" --home "$dir/client-$p" sync >/dev/null
done

say "4. Offline: each link worker records their caseload (server not used)"
declare -A population=([BD]=218869 [CH]=267726 [HV]=262052 [NH]=351036
    [RB]=310259 [TH]=310306 [WF]=278424)
# a link worker's command: what it says is shown only when it fails
record() {
	if ! "$pcmds" --home "$home" "$@" >/dev/null 2>"$home/said"; then
		cat "$home/said" >&2
		exit 1
	fi
}
total=0
for p in $places; do
	home="$dir/client-$p"
	n=$((population[$p] / residents))
	# the place's directory, as the device received it when it enrolled
	assets=$(awk -F, -v p="$p" 'NR > 1 && $4 == p { printf "%s ", $1 }' \
	    "$here/assets-example.csv")
	awk -v seed="$seed" -v place="$p" -v n="$n" -v cmds="$home/cmds.txt" \
	    -v assets="$assets" -f "$here/caseload.awk" >"$home/caseload.csv"
	# referrals, baseline and final ONS4 and closures from a spreadsheet
	"$pcmds" --home "$home" import "$home/caseload.csv" >/dev/null
	# contacts and support, one command each, as a link worker would
	mapfile -t refs < <("$pcmds" --home "$home" list --json |
	    sed -n 's/.*"id":[[:space:]]*"\([0-9a-f-]\{36\}\)".*/\1/p')
	while read -r row what on a b c; do
		ref=${refs[$((row - 1))]}
		if [ "$what" = contact ]; then
			attended=--attended
			[ "$c" = no ] && attended=--no-attended
			record contact "$ref" --on "$on" --mode "$a" \
			    --minutes "$b" "$attended"
		elif [ "$what" = asset ]; then
			# the category comes with the directory's entry
			record support "$ref" --on "$on" --asset "$a" --outcome "$b"
		else
			record support "$ref" --on "$on" --category "$a" \
			    --outcome "$b" --provider "${c//_/ }"
		fi
	done <"$home/cmds.txt"
	left=$("$pcmds" --home "$home" status --json |
	    sed -n 's/.*"pending":[[:space:]]*\([0-9]*\).*/\1/p' | head -1)
	printf '   %s: %3d referrals, %4d records pending\n' "$p" "$n" "$left"
	total=$((total + n))
done
echo "   $total referrals in all"

say "5. Sync: every client sends its records over TLS"
for p in $places; do
	printf '   %s: ' "$p"
	"$pcmds" --home "$dir/client-$p" sync
done

say "6. Impact per place: the evaluator's pcmds report"
# no --key-file: only link workers' devices hold the deployment key
"$pcmds" --home "$dir/evaluator" --passphrase-fd 3 setup --server "$url" \
    --code "$eval_code" --cacert "$dir/server/ca.pem" 3<"$dir/passphrase" \
    >/dev/null 2>&1
"$pcmds" --home "$dir/evaluator" --passphrase-fd 3 report 3<"$dir/passphrase"
# what became of the support offered from one place's directory
"$pcmds" --home "$dir/evaluator" --passphrase-fd 3 report --place NH \
    --assets 3<"$dir/passphrase"

"$pcmdsd" --config "$dir/server/pcmdsd.conf" audit verify | sed 's/^/   /'
if [ "$store" = postgresql ]; then
	n1=$(grep -c "POST /v1/records 200" "$dir/server/server.log" || true)
	n2=$(grep -c "POST /v1/records 200" "$dir/server2/server.log" || true)
	echo "   batches taken: $n1 by the first server, $n2 by the second"
	# HAProxy takes turns: two reports, one from each server
	before=$(grep -c "GET /v1/places " "$dir/server/server.log" || true)
	for i in 1 2; do
		"$pcmds" --home "$dir/evaluator" --passphrase-fd 3 report \
		    --format json 3<"$dir/passphrase" |
		    grep -v '"generated_at"' >"$dir/report$i.json"
	done
	after=$(grep -c "GET /v1/places " "$dir/server/server.log" || true)
	if [ $((after - before)) = 1 ] && cmp -s "$dir/report1.json" \
	    "$dir/report2.json"; then
		echo "   the same figures from each server: two reports through"
		echo "   HAProxy, one answered by each, identical"
	else
		echo "   the two servers' reports differ:"
		diff "$dir/report1.json" "$dir/report2.json" || true
		exit 1
	fi
fi
echo
echo "   Done in $((SECONDS - started)) s."
if [ "$serve" = 1 ]; then
	# Ctrl-C is how this ends: a clean stop, not an error for make (set
	# before the line that invites it)
	trap 'echo; echo "   Server stopped; demo files removed."; exit 0' INT TERM HUP
	echo "   Dashboard: $url/login  with the one-time code  $lead_code"
	echo "   (a place lead for Newham: type the code into the sign-in form; the"
	echo "   browser will not know the demo's own CA, $dir/server/ca.pem, and"
	echo "   will ask before going on)"
	echo
	echo "   The server runs until Ctrl-C. Try: pcmds --home $dir/evaluator"
	echo "   report --place NH --by imd_quintile (passphrase: in $dir/passphrase)"
	status=0
	wait "$server" || status=$?
	# only the trap ends the demo: the server stopped of its own accord
	echo "   the demo's server stopped (status $status) before Ctrl-C; its log:"
	sed 's/^/   /' "$dir/server/server.log"
	exit 1
else
	echo "   The demo's server has stopped with it. For a dashboard to open in"
	echo "   a browser, run make demo-serve: the same demo, with the server kept"
	echo "   running (and a sign-in code printed) until Ctrl-C."
fi
