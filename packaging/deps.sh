#!/usr/bin/env bash
# Installs the Debian 12 packages pcmds needs, and only those that are missing.
#
#   deps.sh            build dependencies (compiler, libraries, cmocka)
#   deps.sh --check    also the tools the test suite drives (sqlite3, openssl,
#                      chromium with its driver and Selenium, npm for
#                      axe-core, sslscan, valgrind, clang for fuzzing, man,
#                      lintian, systemd-analyze, PostgreSQL and HAProxy,
#                      glewlwyd as a real OpenID Connect provider,
#                      libfaketime to move a running app's clock, ...)
#   deps.sh --all      also the benchmark and packaging tools (hyperfine,
#                      dpkg-dev, fakeroot)
#   deps.sh --cluster  build dependencies, PostgreSQL and HAProxy (for
#                      make demo-cluster)
#   deps.sh --list     print what is missing and exit 0 (nothing installed)
#
# When not root and sudo cannot run without a password, it prints the exact
# apt-get line to run and exits 1.
set -euo pipefail

build_pkgs=(gcc make pkg-config libc6-dev libssl-dev libcurl4-openssl-dev
	libcjson-dev libsqlite3-dev libevent-dev zlib1g-dev libcmocka-dev
	libpq-dev)
# man-db, lintian and systemd: test_package renders the man pages, lints
# the packages and verifies the unit (a minimal Debian has none of them);
# postgresql-15 and haproxy: the tests start their own (never a service)
# glewlwyd: test_oidc signs in through it, a real OpenID Connect provider
# faketime: test_ui moves the clock of a running app across midnight
# (libfaketime preloaded into the test's process only, never linked)
check_pkgs=(sqlite3 openssl procps chromium chromium-driver python3-selenium
	npm curl haproxy sslscan valgrind clang libclang-rt-14-dev python3 man-db
	lintian systemd postgresql-15 glewlwyd faketime)
all_pkgs=(hyperfine dpkg-dev fakeroot)

mode=build
case "${1:-}" in
	"" | --build) mode=build ;;
	--check) mode=check ;;
	--all) mode=all ;;
	--cluster) mode=cluster ;;
	--list) mode=list ;;
	*) echo "usage: deps.sh [--build|--check|--all|--cluster|--list]" >&2
	   exit 2 ;;
esac

wanted=("${build_pkgs[@]}")
case "$mode" in
	check) wanted+=("${check_pkgs[@]}") ;;
	cluster) wanted+=(postgresql-15 haproxy) ;;
	all | list) wanted+=("${check_pkgs[@]}" "${all_pkgs[@]}") ;;
esac

missing=()
for p in "${wanted[@]}"; do
	# a Node.js from elsewhere brings its own npm (and refuses Debian's)
	if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then
		continue
	fi
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
		*"install ok installed"*) ;;
		*) missing+=("$p") ;;
	esac
done

if [ "$mode" = list ]; then
	printf '%s\n' "${missing[@]}"
	exit 0
fi
[ ${#missing[@]} -eq 0 ] && exit 0

line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
	sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	sudo=(sudo)
else
	echo "pcmds needs these Debian packages: ${missing[*]}" >&2
	echo "Run as root:  apt-get update && $line" >&2
	exit 1
fi

echo "Installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# PostgreSQL without Debian's default cluster: the tests make their own,
# and no database service is left running on the machine
case " ${missing[*]} " in
*" postgresql-15 "*)
	"${sudo[@]}" mkdir -p /etc/postgresql-common
	if ! grep -qs '^create_main_cluster *= *false' \
	    /etc/postgresql-common/createcluster.conf; then
		echo "create_main_cluster = false" |
			"${sudo[@]}" tee -a /etc/postgresql-common/createcluster.conf \
			>/dev/null
	fi
	;;
esac
"${sudo[@]}" apt-get update -q >&2
# nor does installing start haproxy or PostgreSQL as services: invoke-rc.d
# asks policy-rc.d, and 101 means "not now" (only if none is there)
policy=
case " ${missing[*]} " in
*" postgresql-15 "* | *" haproxy "*)
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
		"${sudo[@]}" chmod 0755 "$policy"
		trap '"${sudo[@]}" rm -f "$policy"' EXIT
	fi
	;;
esac
# shellcheck disable=SC2086
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
