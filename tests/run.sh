#!/usr/bin/env bash
# Runs every test program in BUILD/tests, two at a time, prints each one's
# cmocka report, and ends with "N passed, N failed, N skipped". A test that
# could not check what it says (a tool missing) is SKIPPED, and named here
# with its reason, never counted as passed.
#
# The server suites run twice: on SQLite, and on PostgreSQL
# (PCMDS_TEST_STORE=postgresql, named NAME[postgresql]), on one cluster
# started here for the whole run (tests/pg.sh) when PostgreSQL is
# installed.
set -u
build=${1:-build}
export PCMDS_BUILD=$build
logs=$(mktemp -d)
pgdir=
cleanup() {
	[ -n "$pgdir" ] && bash tests/pg.sh stop "$pgdir"
	rm -rf "$logs"
}
trap cleanup EXIT

# the suites that start a server: both stores
server_suites="test_pcmdsd test_sync test_audit test_export test_impact
    test_abuse test_takeup test_oidc test_ingest"

tests=()
for t in "$build"/tests/test_*; do
	case "$t" in *.o | *.d) continue ;; esac
	[ -x "$t" ] && tests+=("$t")
done
[ ${#tests[@]} -gt 0 ] || { echo "no test programs in $build/tests"; exit 1; }

if pgdir=$(mktemp -d /tmp/pcmds-pg-run.XXXXXX) &&
    PCMDS_TEST_PG=$(bash tests/pg.sh start "$pgdir" 2>"$logs/pg.err"); then
	export PCMDS_TEST_PG
	for s in $server_suites; do
		[ -x "$build/tests/$s" ] && tests+=("$build/tests/$s[postgresql]")
	done
else
	echo "note: PostgreSQL could not be started ($(head -1 "$logs/pg.err"));" \
	    "the server suites run on SQLite only"
	rm -rf "$pgdir"
	pgdir=
fi

run_one() {
	local t=$1 log=$2 start end rc
	start=$(date +%s)
	case "$t" in
	*"[postgresql]") PCMDS_TEST_STORE=postgresql "${t%\[postgresql\]}" \
	    >"$log" 2>&1 ;;
	*) "$t" >"$log" 2>&1 ;;
	esac
	rc=$?
	end=$(date +%s)
	echo "$rc $((end - start))" >"$log.rc"
}

jobs=${PCMDS_TEST_JOBS:-2}
running=0
for t in "${tests[@]}"; do
	name=$(basename "$t")
	run_one "$t" "$logs/$name" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

passed=0 failed=0 skipped=0 bad=() skips=()
for t in "${tests[@]}"; do
	name=$(basename "$t")
	log=$logs/$name
	read -r rc secs <"$log.rc"
	cat "$log"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	p=${p:-0} f=${f:-0} s=${s:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# crashed or exited before cmocka could report
		echo "[  FAILED  ] $name exited with status $rc"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	[ "$f" -gt 0 ] && bad+=("$name")
	# cmocka lists each skipped test after its count line; the line
	# before a test's SKIPPED is the reason it printed
	while read -r t; do
		skips+=("$name: $t")
	done < <(awk '/^\[  SKIPPED \] [0-9]+ test/ { exit }
	    /^\[  SKIPPED \] / { print $4 (why != "" ? " (" why ")" : "") }
	    { why = $0 }' "$log")
	echo "($name: ${secs}s)"
	echo
done
[ ${#bad[@]} -gt 0 ] && echo "failing programs: ${bad[*]}"
if [ ${#skips[@]} -gt 0 ]; then
	echo "skipped (these checked nothing):"
	printf '  %s\n' "${skips[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
