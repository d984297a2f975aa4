#!/usr/bin/env bash
# The whole CTest suite (unit, integration, rules, dashboards, helm) built and run under a sanitizer:
#   scripts/test-sanitized.sh asan   AddressSanitizer + LeakSanitizer + UndefinedBehaviorSanitizer -> build-asan
#   scripts/test-sanitized.sh tsan   ThreadSanitizer                                               -> build-tsan
# Extra arguments go to ctest (e.g. `-L unit`, `-R daemon`). Environment: SANITIZER_BUILD_DIR, JOBS, CMAKE_FLAGS,
# CTEST_FLAGS; ASAN_OPTIONS/UBSAN_OPTIONS/LSAN_OPTIONS/TSAN_OPTIONS set outside are appended to ours, so
# they can override one option (e.g. TSAN_OPTIONS=halt_on_error=0 to collect every race in one run).
#
# Any sanitizer report fails the run, whichever process printed it. The integration tests start the real
# exporter binary (the sanitized one from this build directory) with its stderr in a log file inside a
# temporary directory that is deleted afterwards, so a report there could go unseen. ASan, LSan and TSan
# therefore write to log_path=<build>/sanitizer-reports/<kind>.<pid>; the environment reaches every child,
# the file is created only when there is something to report, and this script fails if any file is there.
# GCC 12's libubsan, linked beside libasan, ignores log_path (checked by hand on Debian 12) and prints to
# the process's stderr, so with -fno-sanitize-recover=all a report mid-test ends that process: a test
# binary fails its test, an exporter child dies and its test sees a dead server. A report while a child
# shuts down changes nothing a test sees, so tests/support's ChildProcess copies any UBSan report it finds
# in a reaped child's log to <log_path>.child.<pid>, here.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

kind=${1:-}
shift || true
case "$kind" in
  asan) sanitizers="address;undefined" ;;
  tsan) sanitizers="thread" ;;
  *) echo "usage: scripts/test-sanitized.sh asan|tsan [ctest args...]" >&2; exit 2 ;;
esac
build_dir=${SANITIZER_BUILD_DIR:-build-$kind}  # never BUILD_DIR: that is the plain build's
jobs=${JOBS:-$(nproc)}
reports="$root/$build_dir/sanitizer-reports"
supp="$root/tests/sanitizers"
start=$(date +%s)

# -O1 -g: the sanitizer documentation's advice (readable stacks, a fraction of -O0's run time). NDEBUG is
# left off and _GLIBCXX_ASSERTIONS on, so asserts and libstdc++'s bounds checks run too. Benchmarks and
# fuzz targets are not part of the suite, so they are not built.
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g -D_GLIBCXX_ASSERTIONS" \
  "-DANOMALY_SANITIZERS=$sanitizers" -DANOMALY_BUILD_BENCHMARKS=OFF -DANOMALY_FUZZ=OFF \
  ${CMAKE_FLAGS:-}
cmake --build "$build_dir" -j "$jobs"
built=$(date +%s)

rm -rf "$reports"
mkdir -p "$reports"
common="log_path=$reports/$kind"
case "$kind" in
  asan)
    # halt_on_error: the first report ends the process with exitcode 1 (the code is built with
    # -fno-sanitize-recover=all, so UBSan does the same). detect_leaks: LeakSanitizer at every exit.
    export ASAN_OPTIONS="log_path=$reports/asan:halt_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1:${ASAN_OPTIONS:-}"
    export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
    export UBSAN_OPTIONS="log_path=$reports/ubsan:halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp:${UBSAN_OPTIONS:-}"
    ;;
  tsan)
    # halt_on_error: a race ends the process (exitcode 66), so the test that saw it fails as well.
    export TSAN_OPTIONS="$common:halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp:print_suppressions=0:${TSAN_OPTIONS:-}"
    ;;
esac

# GCC 12's TSan runtime maps its shadow for at most 28 bits of mmap randomisation; kernels configured with
# more (vm.mmap_rnd_bits=32, e.g. Ubuntu's since 6.5) make every instrumented binary die with "unexpected
# memory mapping". Running without address randomisation (setarch -R) avoids it there; Debian's 28 needs
# nothing.
runner=()
if [ "$kind" = tsan ] && [ "$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 28)" -gt 28 ]; then
  runner=(setarch "$(uname -m)" -R)
fi

set +e
(cd "$build_dir" && "${runner[@]}" ctest --output-on-failure -j "$jobs" ${CTEST_FLAGS:-} "$@") \
  2>&1 | tee "$build_dir/ctest-$kind.log"
ctest_rc=${PIPESTATUS[0]}
set -e
end=$(date +%s)

found=$(find "$reports" -type f | sort)
if [ -n "$found" ]; then
  echo "== $kind: sanitizer reports (each file is one process: <kind>.<pid>) =="
  for f in $found; do
    echo "---- $f"
    head -n 80 "$f"
  done
fi
summary=$(grep -E "tests passed|tests failed" "$build_dir/ctest-$kind.log" | tail -n 1 || true)
echo "== $kind: ${summary:-no ctest summary}; $(echo "$found" | grep -c . || true) sanitizer report file(s);" \
     "build $((built - start)) s, tests $((end - built)) s"
if [ "$ctest_rc" -ne 0 ] || [ -n "$found" ]; then
  exit 1
fi
