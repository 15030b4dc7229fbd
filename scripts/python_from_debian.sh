#!/usr/bin/env bash
# Build a CPython interpreter this machine's Debian (bookworm, Python 3.11 only) does not ship, from
# the upstream source tarball that Debian's own package registry carries for a newer release.
#
#   scripts/python_from_debian.sh 3.13 .python/3.13      # then .python/3.13/bin/python3.13
#
# Why this way: the only places this project may download from are the package registries, and no
# registry ships a prebuilt CPython for bookworm. Debian trixie's *source* package pythonVERSION
# does carry the upstream .orig tarball, fetched through apt (so its checksum is checked against
# trixie's signed Release file), which we configure and build into PREFIX.
#
# Environment:
#   DEBIAN_SUITE  suite whose deb-src to read (default trixie, Debian stable; "sid" has newer
#                 upstream patch releases, e.g. 3.13.15 where trixie has 3.13.5)
#   JOBS          make -j (default 2: the machine has 2 cores shared with others)
#
# Idempotent: exits at once if PREFIX/bin/pythonVERSION exists and imports the modules below.
# Writes nothing to the system's apt configuration or lists; needs root only to apt-get install
# missing build dependencies.
set -euo pipefail

die() { echo "python_from_debian: error: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: $0 VERSION PREFIX   (e.g. $0 3.13 .python/3.13)"
version="$1"
[[ "$version" =~ ^3\.[0-9]+$ ]] || die "VERSION must look like 3.13, got '$version'"
# configure needs an absolute prefix; a relative one is taken from the current directory.
prefix="$(realpath -m -- "$2")"
suite="${DEBIAN_SUITE:-trixie}"
jobs="${JOBS:-2}"
python="$prefix/bin/python$version"

# Modules that silently go missing when a -dev package was absent at configure time (CPython
# still builds, just without them), and that Airflow, pip and our tests need.
required_modules="ssl sqlite3 ctypes zlib bz2 lzma"
check_python() {
    "$python" -c "import sys, $(echo "$required_modules" | tr ' ' ',')
assert sys.version_info[:2] == tuple(map(int, '$version'.split('.'))), sys.version" \
    && "$python" -m pip --version >/dev/null
}

if [ -x "$python" ] && check_python 2>/dev/null; then
    echo "python_from_debian: $python already works ($("$python" -V)); nothing to do"
    exit 0
fi
# A PREFIX that exists but does not work is left for a person to look at rather than deleted:
# it came from a path given on the command line, and rm -rf of a mistyped one is not undoable.
if [ -e "$prefix" ] && [ -n "$(ls -A "$prefix" 2>/dev/null)" ]; then
    die "$prefix exists but $python does not work; remove it and rerun"
fi

start=$SECONDS

# --- build dependencies (bookworm binary packages) ---------------------------------------------
# One -dev package per optional stdlib module: libssl-dev -> ssl, libsqlite3-dev -> sqlite3,
# libffi-dev -> ctypes, zlib1g-dev -> zlib (and so ensurepip), libbz2-dev -> bz2, liblzma-dev ->
# lzma, uuid-dev -> _uuid, libreadline-dev/libncurses-dev -> readline/curses, libgdbm-dev -> dbm.gnu,
# tk-dev -> tkinter, libexpat1-dev -> pyexpat against the system's expat. xz-utils unpacks the
# tarball; apt-get source itself needs nothing more than apt.
deps="build-essential pkg-config xz-utils libssl-dev zlib1g-dev libffi-dev libsqlite3-dev
      libbz2-dev liblzma-dev libreadline-dev libncurses-dev uuid-dev libgdbm-dev tk-dev libexpat1-dev"
missing=""
for p in $deps; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    [ "$(id -u)" -eq 0 ] || die "missing build dependencies:$missing (run as root, or apt-get install them)"
    echo "python_from_debian: installing build dependencies:$missing"
    # The system's lists may be absent or stale on a fresh machine; update once before installing.
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi

# --- fetch the source through a private apt configuration ---------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/python-from-debian.XXXXXX")"
chmod 0755 "$work"   # mktemp's 0700 would keep apt's _apt user out of the download dirs below
log="$work/build.log"
on_exit() {
    rc=$?
    if [ $rc -ne 0 ] && [ -s "$log" ]; then
        echo "python_from_debian: failed (exit $rc); last lines of the build log:" >&2
        tail -n 40 "$log" >&2
    fi
    rm -rf "$work"
    [ -z "${staging:-}" ] || rm -rf "$staging"
}
trap on_exit EXIT

# Our own sources.list, lists and cache dirs: the system keeps its bookworm-only config, and no
# trixie binary package can ever be installed by accident (we add only deb-src, never deb).
apt_dir="$work/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$work/src"
printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian %s main\n' \
    "$suite" >"$apt_dir/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache")
# apt downloads as the unprivileged _apt user; let it write into our dirs so it need not fall back
# to downloading as root (which it warns about).
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
    chown -R _apt "$apt_dir/lists/partial" "$apt_dir/cache" "$work/src"
fi
echo "python_from_debian: reading Debian $suite source index"
apt-get "${apt_opts[@]}" update -qq >>"$log" 2>&1 || die "apt-get update of $suite deb-src failed"
# --download-only: we want the files, not dpkg-source's unpacking with Debian's patches applied.
# apt verifies every file's SHA256 against the Sources index from the signed InRelease.
(cd "$work/src" && apt-get "${apt_opts[@]}" source --download-only -qq "python$version") >>"$log" 2>&1 \
    || die "apt-get source python$version from $suite failed (does $suite have python$version?)"
orig="$(find "$work/src" -maxdepth 1 -name "python${version}_*.orig.tar.*" ! -name '*.asc' | head -n 1)"
[ -n "$orig" ] || die "no python${version}_*.orig.tar.* among the downloaded files"
echo "python_from_debian: building $(basename "$orig") into $prefix"

# --- unpack and build the upstream source --------------------------------------------------------
# Only the upstream .orig tarball is used; Debian's debian/ tarball (its packaging and patches:
# the Debian file layout, dist-packages, multiarch paths, and backported fixes of its +debNuN
# updates) is deliberately not applied. Those patches target a /usr install by dpkg, and some of
# them break a self-contained --prefix build; the result is plain upstream CPython of the tarball's
# version. Use DEBIAN_SUITE=sid for a newer upstream patch release if the fixes matter.
mkdir "$work/build"
tar -xf "$orig" -C "$work/build" --strip-components=1
cd "$work/build"
# No --enable-optimizations (PGO would rerun the test suite and take several times longer).
# --with-ensurepip=install puts pip in the prefix, so "python -m venv" works with pip inside.
echo "python_from_debian: configure"
./configure --prefix="$prefix" --with-ensurepip=install >>"$log" 2>&1 || die "configure failed"
echo "python_from_debian: make -j$jobs"
make -j"$jobs" >>"$log" 2>&1 || die "make failed"

# Install into a staging root first, then move the finished tree to PREFIX, so a failed or
# interrupted install never leaves a half-populated PREFIX (which the check above would refuse).
mkdir -p "$(dirname "$prefix")"
staging="$(mktemp -d "$(dirname "$prefix")/.staging-python$version.XXXXXX")"
echo "python_from_debian: make install"
make install DESTDIR="$staging" >>"$log" 2>&1 || die "make install failed"
[ ! -e "$prefix" ] || rmdir "$prefix"   # only ever an empty dir here (checked above)
mv "$staging$prefix" "$prefix"

# --- verify -------------------------------------------------------------------------------------
cd /
for m in $required_modules; do
    "$python" -c "import $m" 2>>"$log" || die "$python cannot import $m (was its -dev package missing at configure time?)"
done
check_python || die "$python does not work after install"
echo "python_from_debian: $("$python" -V) at $python; imports OK: $required_modules"
echo "python_from_debian: done in $((SECONDS - start)) s"
