#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# The Debian package, end to end: builds the .deb with CPack from BUILD_DIR into a
# temporary folder and checks
#   1. its file list (dpkg-deb -c): the executable, the GStreamer plugin in the folder
#      the system's GStreamer scans, both systemd units, a man page per subcommand, the
#      copyright file and the example configurations;
#   2. its control fields: Depends filled in by dpkg-shlibdeps, and no libsrt there;
#   3. the extracted tree (dpkg-deb -x): the executable needs neither libsrt nor an
#      RPATH (the bonding libsrt is linked in), every library it needs resolves, and
#      `bondcast --help` exits 0 listing the subcommands;
#   4. the units with systemd-analyze verify: on copies whose ExecStart points into the
#      extracted tree (verify insists the binary exists; with --root it would also need
#      a whole systemd unit tree), with MANPATH on the package's man pages so that their
#      Documentation= pages must be in the package;
#   5. gst-inspect-1.0 loads the packaged plugin, sees both elements and the MPL-2.0
#      license, and logs no "unknown license" warning.
# Every failed check is reported; the exit code is 1 if any failed.
#
# Usage: deb_test.sh BUILD_DIR
set -euo pipefail

build_dir=$(cd "${1:?usage: deb_test.sh BUILD_DIR}" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bondcast-deb-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

failures=0
fail() {
  printf 'FAIL: %s\n' "$*"
  failures=$((failures + 1))
}
pass() { printf 'ok: %s\n' "$*"; }

# --- build the package ------------------------------------------------------------
start=$(date +%s)
if ! cpack -G DEB --config "$build_dir/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1; then
  cat "$tmp/cpack.log"
  echo "FAIL: cpack could not build the package"
  exit 1
fi
debs=("$tmp"/out/*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || {
  ls -l "$tmp/out"
  echo "FAIL: expected one .deb in the cpack output"
  exit 1
}
deb=${debs[0]}
echo "built $(basename "$deb") ($(du -k "$deb" | cut -f1) kB) in $(($(date +%s) - start)) s"

# --- 1. file list -----------------------------------------------------------------
dpkg-deb -c "$deb" >"$tmp/contents"
echo "--- dpkg-deb -c"
cat "$tmp/contents"
echo "---"
# "./usr/bin/bondcast" -> "/usr/bin/bondcast"
awk '{ sub(/^\./, "", $6); print $6 }' "$tmp/contents" >"$tmp/paths"
expect_file() {
  if grep -qxF "$1" "$tmp/paths"; then
    pass "package has $1"
  else
    fail "package lacks $1"
  fi
}
plugin_dir=$(pkg-config --variable=pluginsdir gstreamer-1.0)
expect_file /usr/bin/bondcast
expect_file "$plugin_dir/libgstbondcast.so"
expect_file /lib/systemd/system/bondcast-recv@.service
expect_file /lib/systemd/system/bondcast-send@.service
expect_file /usr/share/doc/bondcast/copyright
expect_file /usr/share/doc/bondcast/examples/example-recv.toml
expect_file /usr/share/doc/bondcast/examples/example-send.toml
expect_file /usr/share/man/man1/bondcast.1.gz

# --- 2. control fields ------------------------------------------------------------
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
# One package name a line, without versions or alternatives' bars.
depends_names=$(tr ',|' '\n\n' <<<"$depends" | awk 'NF { print $1 }')
for p in libc6 libstdc++6 libavformat59 libgstreamer1.0-0; do
  if grep -qxF "$p" <<<"$depends_names"; then
    pass "Depends names $p"
  else
    fail "Depends lacks $p (dpkg-shlibdeps did not run?)"
  fi
done
if grep -q '^libsrt' <<<"$depends_names"; then
  fail "Depends names libsrt: the bonding libsrt must be linked in, not Debian's"
else
  pass "Depends names no libsrt"
fi
[ "$(dpkg-deb -f "$deb" Architecture)" = "$(dpkg --print-architecture)" ] ||
  fail "Architecture is not $(dpkg --print-architecture)"

# --- 3. the extracted tree --------------------------------------------------------
root=$tmp/root
dpkg-deb -x "$deb" "$root"
bin=$root/usr/bin/bondcast
if readelf -d "$bin" | grep -E 'NEEDED.*libsrt|RPATH|RUNPATH'; then
  fail "the packaged bondcast needs libsrt or carries an RPATH"
else
  pass "the packaged bondcast needs no libsrt and has no RPATH"
fi
if ldd "$bin" | grep 'not found'; then
  fail "the packaged bondcast needs libraries this system lacks"
fi
if grep -qF 'Mozilla Public License' "$root/usr/share/doc/bondcast/copyright" &&
  grep -qF 'Haivision' "$root/usr/share/doc/bondcast/copyright"; then
  pass "copyright names the MPL-2.0 and libsrt's holders"
else
  fail "copyright lacks the MPL-2.0 notice or libsrt's copyright"
fi

help_rc=0
help=$("$bin" --help 2>&1) || help_rc=$?
echo "--- bondcast --help (exit $help_rc)"
echo "$help"
echo "---"
[ "$help_rc" -eq 0 ] || fail "bondcast --help exited $help_rc"
subcommands=$(sed -n '/^Subcommands:/,/^$/{s/^  \([a-z]\+\) .*/\1/p}' <<<"$help")
for sub in send recv emulate sim demo; do
  grep -qxF "$sub" <<<"$subcommands" || fail "bondcast --help does not list '$sub'"
done
for sub in $subcommands; do
  expect_file "/usr/share/man/man1/bondcast-$sub.1.gz"
  if "$bin" "$sub" --help >/dev/null 2>&1; then
    pass "bondcast $sub --help exits 0"
  else
    fail "bondcast $sub --help fails"
  fi
done
for page in "$root"/usr/share/man/man1/*.1.gz; do
  zcat "$page" | grep -q '^\.TH ' || fail "$(basename "$page") is not a man page"
done

# --- 4. systemd units -------------------------------------------------------------
mkdir -p "$tmp/units"
for kind in recv send; do
  unit=bondcast-$kind@.service
  src=$root/lib/systemd/system/$unit
  [ -f "$src" ] || continue
  grep -qxF "LoadCredential=config.toml:/etc/bondcast/%i.toml" "$src" ||
    fail "$unit does not read /etc/bondcast/%i.toml"
  grep -qxF "ExecStart=/usr/bin/bondcast $kind --config %d/config.toml" "$src" ||
    fail "$unit does not run /usr/bin/bondcast $kind --config"
  sed "s|^ExecStart=/usr/bin/bondcast |ExecStart=$bin |" "$src" >"$tmp/units/$unit"
  verify_rc=0
  out=$(MANPATH=$root/usr/share/man systemd-analyze verify "$tmp/units/$unit" 2>&1) || verify_rc=$?
  # verify prints warnings (an unknown key, a bad value) but still exits 0 for them.
  if [ "$verify_rc" -eq 0 ] && [ -z "$out" ]; then
    pass "systemd-analyze verify $unit: clean"
  else
    fail "systemd-analyze verify $unit (exit $verify_rc): $out"
  fi
done
grep -qxF 'AmbientCapabilities=CAP_NET_RAW' "$tmp/units/bondcast-send@.service" ||
  fail "the send unit does not grant CAP_NET_RAW (links with dev=)"

# --- 5. the GStreamer plugin ------------------------------------------------------
inspect_rc=0
inspect=$(GST_REGISTRY_1_0=$tmp/registry.bin GST_PLUGIN_SYSTEM_PATH_1_0=$tmp/none \
  GST_DEBUG=GST_PLUGIN_LOADING:2 GST_DEBUG_NO_COLOR=1 \
  gst-inspect-1.0 "$root$plugin_dir/libgstbondcast.so" 2>&1) || inspect_rc=$?
if [ "$inspect_rc" -eq 0 ] && grep -qE '^ +License +MPL-2\.0$' <<<"$inspect" &&
  grep -q bondcastsink <<<"$inspect" && grep -q bondcastsrc <<<"$inspect"; then
  pass "gst-inspect-1.0 loads the packaged plugin: bondcastsink, bondcastsrc, MPL-2.0"
else
  echo "$inspect"
  fail "gst-inspect-1.0 on the packaged plugin (exit $inspect_rc)"
fi
if grep -i 'license' <<<"$inspect" | grep -qi 'unknown'; then
  fail "GStreamer warns about the plugin's license"
fi

echo "$failures failed check(s); $(($(date +%s) - start)) s"
[ "$failures" -eq 0 ]
