#!/bin/sh
# tests/fuzz/run.sh: run every libFuzzer target for a bounded time; fail on any crash.
#
#   CC=clang ../configure --enable-fuzzing && make tests/fuzz/fuzz-address \
#       tests/fuzz/fuzz-readline tests/fuzz/fuzz-datagram tests/fuzz/fuzz-http
#   FUZZ_SECONDS=60 /path/to/src/tests/fuzz/run.sh [BUILDDIR]
#
# Without BUILDDIR but with BUILD_ROOT set (as .ci/run's fuzz stage calls
# it), it first configures and builds the targets in $BUILD_ROOT/fuzz.
#
# BUILDDIR (default: the current directory) holds the built targets in
# tests/fuzz/. Each target starts from its seed corpus in
# tests/fuzz/corpus/<target>/ (copied, so the sources stay untouched) and
# runs for $FUZZ_SECONDS (default 60). A crash, a leak, a sanitizer report
# or an abort() from a target's own invariant checks makes libFuzzer exit
# non-zero; the reproducer is kept in $FUZZ_WORKDIR (default a temporary
# folder, printed) and this script exits 1 after running the other targets.
set -u

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
targets="fuzz-address fuzz-readline fuzz-datagram fuzz-http"
# fuzz-tls (the TLS handshake) where the library is built with TLS.
tls_target () { grep -q '^#define HAVE_TLS 1' "$1/config.h" 2>/dev/null && targets="$targets fuzz-tls"; }
if [ $# -ge 1 ]; then
    builddir=$(cd "$1" && pwd)
elif [ -n "${BUILD_ROOT:-}" ]; then
    # Called from .ci/run (BUILD_ROOT set, no argument): build first, out of
    # tree, with clang and --enable-fuzzing.
    builddir=$BUILD_ROOT/fuzz
    rm -rf "$builddir"
    mkdir -p "$builddir"
    echo "== building the fuzz targets in $builddir"
    (cd "$builddir" && CC=clang "$srcdir/configure" -q --enable-fuzzing) \
        >"$builddir/ci-build.log" 2>&1 || { tail -n 40 "$builddir/ci-build.log"; exit 1; }
    tls_target "$builddir"
    (cd "$builddir" && make -j"$(nproc)" $(for t in $targets; do printf 'tests/fuzz/%s ' "$t"; done)) \
        >"$builddir/ci-build.log" 2>&1 || { tail -n 40 "$builddir/ci-build.log"; exit 1; }
else
    builddir=$(pwd)
fi
case " $targets " in *" fuzz-tls "*) ;; *) tls_target "$builddir" ;; esac
seconds=${FUZZ_SECONDS:-60}
workdir=${FUZZ_WORKDIR:-$(mktemp -d "${TMPDIR:-/tmp}/ss-fuzz.XXXXXX")}
failed=""

mkdir -p "$workdir"
for t in $targets; do
    bin="$builddir/tests/fuzz/$t"
    if [ ! -x "$bin" ]; then
        echo "run.sh: $bin is missing: configure with CC=clang --enable-fuzzing and build it" >&2
        exit 2
    fi
done

for t in $targets; do
    corpus="$workdir/$t-corpus"
    mkdir -p "$corpus"
    cp "$srcdir/tests/fuzz/corpus/$t/"* "$corpus/" 2>/dev/null || true
    case $t in
        fuzz-datagram) maxlen=16384 ;;  # past max_packet_size's default 8192
        fuzz-http) maxlen=70000 ;;      # past the 65536-byte line limits
        *) maxlen=8192 ;;
    esac
    echo "== $t for ${seconds}s (corpus $corpus)"
    if "$builddir/tests/fuzz/$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2560 \
            -max_len="$maxlen" -print_final_stats=1 -artifact_prefix="$workdir/$t-" \
            "$corpus" >"$workdir/$t.log" 2>&1; then
        grep -E '^(stat::number_of_executed_units|stat::new_units_added|Done)' "$workdir/$t.log"
        echo "== $t: no crash"
    else
        tail -n 40 "$workdir/$t.log"
        echo "== $t: FAILED (log $workdir/$t.log, reproducer $workdir/$t-*)"
        failed="$failed $t"
    fi
done

if [ -n "$failed" ]; then
    echo "run.sh: crashes in:$failed" >&2
    exit 1
fi
echo "run.sh: all targets ran ${seconds}s without a crash (work dir $workdir)"
