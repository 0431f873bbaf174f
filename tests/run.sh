#!/usr/bin/env bash
# Runs every test program in BUILD/tests, two at a time, prints each one's
# cmocka report, and ends with "N passed, N failed, N skipped". A test that
# could not check what it says (a tool missing) is SKIPPED, and named here
# with its reason, never counted as passed.
set -u
build=${1:-build}
export PCMDS_BUILD=$build
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

tests=()
for t in "$build"/tests/test_*; do
	case "$t" in *.o | *.d) continue ;; esac
	[ -x "$t" ] && tests+=("$t")
done
[ ${#tests[@]} -gt 0 ] || { echo "no test programs in $build/tests"; exit 1; }

run_one() {
	local t=$1 log=$2 start end rc
	start=$(date +%s)
	"$t" >"$log" 2>&1
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
