#!/usr/bin/env bash
# Builds the Debian packages pcmds (client) and pcmdsd (server) from the
# tree "make install PREFIX=/usr DESTDIR=OUT/stage" left in OUT/stage.
#
#   mkdeb.sh OUT VERSION ARCH
set -euo pipefail
out=$(cd "$1" && pwd) version=$2 arch=$3
stage=$out/stage
here=$(cd "$(dirname "$0")" && pwd)
maint="pcmds developers <dev@pcmds.invalid>"
date=$(date -R -d @"${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct 2>/dev/null || date +%s)}")

# copy FILE from the staged tree into package PKG, same path
take() {
	local pkg=$1 path=$2
	mkdir -p "$out/$pkg/$(dirname "$path")"
	cp -p "$stage/$path" "$out/$pkg/$path"
}

# man pages are shipped compressed
take_man() {
	take "$1" "$2"
	gzip -9n "$out/$1/$2"
}

docs() {
	local pkg=$1 d=$out/$1/usr/share/doc/$1
	mkdir -p "$d"
	cat > "$d/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: pcmds

Files: *
Copyright: 2026 The pcmds authors
License: Expat
$(sed -e '1,2d' -e 's/^$/./' -e 's/^/ /' "$here/../LICENSE")
COPYRIGHT
	printf '%s (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- %s  %s\n' \
	    "$pkg" "$version" "$version" "$maint" "$date" |
	    gzip -9n > "$d/changelog.gz"
}

depends() {
	local bin=$1 tmp
	tmp=$(mktemp -d)
	mkdir -p "$tmp/debian"
	printf 'Source: pcmds\n\nPackage: x\nArchitecture: any\n' \
	    > "$tmp/debian/control"
	if command -v dpkg-shlibdeps >/dev/null 2>&1 &&
	    (cd "$tmp" && dpkg-shlibdeps -O "$bin" 2>/dev/null) |
	    sed -n 's/^shlibs:Depends=//p' > "$tmp/deps" && [ -s "$tmp/deps" ]; then
		cat "$tmp/deps"
	else
		echo "$2"
	fi
	rm -rf "$tmp"
}

control() {
	local pkg=$1 deps=$2 desc=$3 section=$4
	local size
	size=$(du -k -s --exclude=DEBIAN "$out/$pkg" | cut -f1)
	mkdir -p "$out/$pkg/DEBIAN"
	cat > "$out/$pkg/DEBIAN/control" <<CONTROL
Package: $pkg
Version: $version
Architecture: $arch
Maintainer: $maint
Installed-Size: $size
Depends: $deps
Section: $section
Priority: optional
Homepage: https://pcmds.invalid/
Description: $desc
CONTROL
	(cd "$out/$pkg" && find . -path ./DEBIAN -prune -o -type f -print |
	    sed 's|^\./||' | sort | xargs md5sum) > "$out/$pkg/DEBIAN/md5sums"
}

strip_bin() {
	strip --strip-unneeded --remove-section=.comment \
	    --remove-section=.note "$1"
}

# -- pcmds: the link worker's client -----------------------------------------
rm -rf "$out/pcmds" "$out/pcmdsd"
take pcmds usr/bin/pcmds
strip_bin "$out/pcmds/usr/bin/pcmds"
take_man pcmds usr/share/man/man1/pcmds.1
take pcmds usr/share/bash-completion/completions/pcmds
docs pcmds
cp "$stage/usr/share/doc/pcmds/data-set.md" "$out/pcmds/usr/share/doc/pcmds/"
control pcmds "$(depends "$out/pcmds/usr/bin/pcmds" \
    'libc6, libcurl4, libcjson1, libsqlite3-0, libssl3, zlib1g')" \
    "personalised care minimum data-set client for social prescribing
 pcmds records referrals, ONS4 wellbeing scores, contacts, support
 offered and closures offline on a link worker's computer, checks them,
 and syncs them securely to a pcmdsd server. NHS numbers are turned into
 keyed pseudonyms on the device and never stored or sent." utils

# -- pcmdsd: the server ------------------------------------------------------
take pcmdsd usr/sbin/pcmdsd
strip_bin "$out/pcmdsd/usr/sbin/pcmdsd"
take_man pcmdsd usr/share/man/man8/pcmdsd.8
take_man pcmdsd usr/share/man/man5/pcmdsd.conf.5
take pcmdsd lib/systemd/system/pcmdsd.service
take pcmdsd usr/share/pcmds/places-nel.csv
take pcmdsd usr/share/pcmds/assets-example.csv
mkdir -p "$out/pcmdsd/etc/pcmds"
install -m 0644 "$here/pcmdsd.conf.packaged" "$out/pcmdsd/etc/pcmds/pcmdsd.conf"
docs pcmdsd
cp "$stage/usr/share/doc/pcmds/openapi.yaml" "$out/pcmdsd/usr/share/doc/pcmdsd/"
control pcmdsd "$(depends "$out/pcmdsd/usr/sbin/pcmdsd" \
    'libc6, libcjson1, libevent-2.1-7, libevent-openssl-2.1-7, libsqlite3-0, libssl3, zlib1g'), adduser" \
    "personalised care minimum data-set server for social prescribing
 pcmdsd receives pcmds records over HTTPS, validates and stores them
 durably, keeps impact per place current (reach and ONS4 change with
 disclosure control), and serves figures, pseudonymised exports and a
 dashboard to place leads and evaluators, with a hash-chained audit log." net
echo /etc/pcmds/pcmdsd.conf > "$out/pcmdsd/DEBIAN/conffiles"
cat > "$out/pcmdsd/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
	if ! getent passwd pcmds >/dev/null; then
		adduser --system --group --home /var/lib/pcmds --no-create-home \
		    --quiet pcmds
	fi
	install -d -o pcmds -g pcmds -m 0700 /var/lib/pcmds
	chgrp pcmds /etc/pcmds/pcmdsd.conf
	if [ ! -e /etc/pcmds/secret.key ]; then
		pcmdsd secret create /etc/pcmds/secret.key >/dev/null
		chown pcmds:pcmds /etc/pcmds/secret.key
	fi
	if command -v deb-systemd-helper >/dev/null; then
		deb-systemd-helper unmask pcmdsd.service >/dev/null || true
		deb-systemd-helper update-state pcmdsd.service >/dev/null || true
	fi
	if [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
	fi
	echo "pcmdsd: add a certificate and key to /etc/pcmds (see" \
	    "pcmdsd.conf), then: systemctl enable --now pcmdsd"
fi
POSTINST
cat > "$out/pcmdsd/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
	deb-systemd-invoke stop pcmdsd.service >/dev/null || true
fi
PRERM
cat > "$out/pcmdsd/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi
if [ "$1" = purge ] && command -v deb-systemd-helper >/dev/null; then
	deb-systemd-helper purge pcmdsd.service >/dev/null || true
fi
# The database in /var/lib/pcmds is never removed by the package: remove
# it yourself once its records are no longer needed.
POSTRM
chmod 0755 "$out/pcmdsd/DEBIAN/postinst" "$out/pcmdsd/DEBIAN/prerm" \
    "$out/pcmdsd/DEBIAN/postrm"

for pkg in pcmds pcmdsd; do
	find "$out/$pkg" -type d -exec chmod 0755 {} +
	dpkg-deb --root-owner-group -Zxz --build "$out/$pkg" \
	    "$out/${pkg}_${version}_${arch}.deb" >/dev/null
	echo "  DEB     $out/${pkg}_${version}_${arch}.deb"
done
