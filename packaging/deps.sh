#!/usr/bin/env bash
# Installs the Debian 12 packages pcmds needs, and only those that are missing.
#
#   deps.sh            build dependencies (compiler, libraries, cmocka)
#   deps.sh --check    also the tools the test suite drives (sqlite3, openssl,
#                      chromium with its driver and Selenium, npm for
#                      axe-core, sslscan, valgrind, clang for fuzzing, man,
#                      lintian, systemd-analyze, ...)
#   deps.sh --all      also the benchmark and packaging tools (hyperfine,
#                      dpkg-dev, fakeroot)
#   deps.sh --list     print what is missing and exit 0 (nothing installed)
#
# When not root and sudo cannot run without a password, it prints the exact
# apt-get line to run and exits 1.
set -euo pipefail

build_pkgs=(gcc make pkg-config libc6-dev libssl-dev libcurl4-openssl-dev
	libcjson-dev libsqlite3-dev libevent-dev zlib1g-dev libcmocka-dev)
# man-db, lintian and systemd: test_package renders the man pages, lints
# the packages and verifies the unit (a minimal Debian has none of them)
check_pkgs=(sqlite3 openssl procps chromium chromium-driver python3-selenium
	npm curl haproxy sslscan valgrind clang libclang-rt-14-dev python3 man-db
	lintian systemd)
all_pkgs=(hyperfine dpkg-dev fakeroot)

mode=build
case "${1:-}" in
	"" | --build) mode=build ;;
	--check) mode=check ;;
	--all) mode=all ;;
	--list) mode=list ;;
	*) echo "usage: deps.sh [--build|--check|--all|--list]" >&2; exit 2 ;;
esac

wanted=("${build_pkgs[@]}")
case "$mode" in
	check) wanted+=("${check_pkgs[@]}") ;;
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
"${sudo[@]}" apt-get update -q >&2
# shellcheck disable=SC2086
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
