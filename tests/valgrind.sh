#!/usr/bin/env bash
# make valgrind: memcheck over the unit tests and a client session.
# Fails on any invalid read or write, use of uninitialised memory, or a
# definite or indirect leak.
set -u
build=${1:-build}
export PCMDS_BUILD=$build
export PCMDS_VALGRIND=1	# tests skip what memcheck cannot follow (setuid)
vg=(valgrind --quiet --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
    --track-origins=yes)
command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 1; }
fail=0
units="test_agg test_ckm test_codes test_cstore test_csv test_date test_dict
    test_disclosure test_ingest test_jarena test_jfast test_jout test_jscan
    test_jwt test_kv test_nhs test_openapi test_opt
    test_pii test_poisson test_pop test_rate test_rec test_sdc test_stats
    test_store_sqlite
    test_timeline test_turns test_util test_vault"
for t in $units; do
	if "${vg[@]}" "$build/tests/$t" >"/tmp/vg.$$" 2>&1; then
		echo "valgrind $t: clean"
	else
		echo "valgrind $t: FAILED"
		cat "/tmp/vg.$$"
		fail=1
	fi
done

# a client session, offline, command by command; the store's passphrase
# protected by the test-only scrypt cost (memcheck is slow)
home=$(mktemp -d)
export XDG_RUNTIME_DIR=$home/run
mkdir -m 0700 "$XDG_RUNTIME_DIR"
pass="valgrind passphrase"
trap '"$build/pcmds" --home "$home" lock >/dev/null 2>&1; rm -rf "$home" "/tmp/vg.$$"' EXIT
run() {
	local rc=0
	"${vg[@]}" "$build/pcmds" --home "$home" "$@" >"/tmp/vg.$$" 2>&1 || rc=$?
	# 99 is valgrind's; 1 and 2 are the answers to the bad-input commands
	if [ "$rc" = 99 ] || { [ "$rc" != 0 ] && [ "${expect_fail:-0}" = 0 ]; }
	then
		echo "valgrind pcmds $*: FAILED ($rc)"
		cat "/tmp/vg.$$"
		fail=1
		return
	fi
	local a name=
	for a; do
		case $a in --* | [0-9]*) ;; *) name=$a; break ;; esac
	done
	echo "valgrind pcmds $name: clean"
}
run keygen --out "$home/k"
run --passphrase-fd 0 setup --insecure-test-kdf --key-file "$home/k" \
    --worker vg1 --place NH <<<"$pass"
rk=$(sed -n 's/^    \([0-9A-Z]\{4\}\(-[0-9A-Z]\{4\}\)\{7\}\)$/\1/p' "/tmp/vg.$$")
run --passphrase-fd 0 unlock <<<"$pass"
run referral --nhs-number "943 476 5919" --referred-on 2026-02-01 \
    --source self --reason stress,housing --service general --age 40 \
    --gender female --ethnicity K --imd-decile 2 --carer --consent-evaluation
# its short id, as a link worker types it: the start of the id's last group
ref=$(sed -n 's/.*"id":[[:space:]]*"[0-9a-f-]\{24\}\([0-9a-f]\{8\}\).*/\1/p' \
    <("$build/pcmds" --home "$home" list --json) | head -1)
run assess "$ref" --stage baseline --on 2026-02-02 --life-satisfaction 3 \
    --worthwhile 4 --happy 3 --anxious 7
run contact "$ref" --on 2026-02-03 --mode phone --minutes 20 --attended
run support "$ref" --on 2026-02-04 --category food --outcome taken_up \
    --provider "Food Bank"
run correct "$ref" --set age=41
run close "$ref" --on 2026-03-01 --reason goals_met
run due
run find --nhs-number "943 476 5919"
run list
run show "$ref"
run status --json
run export --format csv
run --passphrase-fd 0 passphrase <<<"$pass
$pass again"
pass="$pass again"
run --passphrase-fd 0 list <<<"$pass"
expect_fail=1 run --passphrase-fd 0 list <<<"not it"
printf 'person_basis,referred_on,source,reasons,service,age,gender,ethnicity,consent_evaluation\nlocal,2026-01-01,self,stress,general,30,male,A,yes\nlocal,2026-13-01,self,stress,general,30,male,A,yes\n' >"$home/in.csv"
expect_fail=1 run import "$home/in.csv"
expect_fail=1 run referral --nhs-number 9434765918 --age 300
expect_fail=1 run contact ffffffff --on 2026-02-03
# the app, locked: its unlock page, then pages, a form refused and one
# stored, then closed from itself
rid=$(sed -n 's/.*"id":[[:space:]]*"\([0-9a-f-]\{36\}\).*/\1/p' \
    <("$build/pcmds" --home "$home" list --json) | head -1)
run lock
if command -v curl >/dev/null; then
	timeout 300 "${vg[@]}" "$build/pcmds" --home "$home" ui --no-browser \
	    >"$home/ui.url" 2>"/tmp/vg.$$" &
	uipid=$!
	for _ in $(seq 1 200); do [ -s "$home/ui.url" ] && break; sleep 0.1; done
	url=$(head -1 "$home/ui.url")
	base=${url%%/launch*}
	jar="$home/ui.jar"
	c=(curl -s -o /dev/null -b "$jar" -c "$jar")
	"${c[@]}" "$url"
	csrf=$(curl -s -b "$jar" "$base/" |
	    sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
	"${c[@]}" -H "Origin: $base" --data "csrf=$csrf&passphrase=wrong+one" \
	    "$base/unlock"
	got=$("${c[@]}" -w '%{http_code}' -H "Origin: $base" \
	    --data-urlencode "passphrase=$pass" --data "csrf=$csrf" \
	    "$base/unlock")
	[ "$got" = 303 ] || { echo "valgrind pcmds ui: not unlocked ($got)"; fail=1; }
	for p in / /referral/new "/r/$rid" /quarantine /assets /sync /app.css \
	    /no/such; do
		"${c[@]}" "$base$p"
	done
	"${c[@]}" -H "Origin: $base" --data "csrf=$csrf&age=300" \
	    "$base/referral/new"
	"${c[@]}" -H "Origin: $base" --data "csrf=$csrf&no_nhs_number=yes&referred_on=today&source=self&reasons=stress&service=general&age=30&gender=male&ethnicity=K&consent_evaluation=yes" \
	    "$base/referral/new"
	"${c[@]}" -H "Origin: $base" --data "csrf=$csrf" "$base/quit"
	if wait "$uipid"; then
		echo "valgrind pcmds ui: clean"
	else
		echo "valgrind pcmds ui: FAILED"
		cat "/tmp/vg.$$"
		fail=1
	fi
fi
# the passphrase forgotten: the recovery key printed at setup
run lock
pass="recovered passphrase"
run --passphrase-fd 0 recover <<<"$rk
$pass"
run --passphrase-fd 0 unlock <<<"$pass"
run setup --key-file "$home/k"
run list
run lock
[ "$fail" = 0 ] && echo "valgrind: everything clean"
exit "$fail"
