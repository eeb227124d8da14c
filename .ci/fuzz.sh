#!/usr/bin/env bash
# Builds every cargo-fuzz target and runs each for a bounded time; fails on any crash, panic,
# timeout (hang) or out-of-memory. Called from .ci/run.
#
#   FUZZ_SECONDS   seconds per target (default 30; 10 targets ≈ 5 min + build on 2 cores)
#   FUZZ_TARGETS   space-separated subset (default: all targets of fuzz/Cargo.toml)
#   FUZZ_JOBS      parallel libFuzzer jobs per target (default 1)
#   FUZZ_SANITIZER none (default: the fuzzed paths hold no unsafe code; 2-5x more execs) or
#                  address (also checks the unsafe code of dependencies; use for long runs)
#
# New inputs go to a scratch corpus ($FUZZ_WORK, default target/fuzz-corpus/<target>); the
# committed seeds under fuzz/corpus/<target>/ are only read. A crash input is saved under
# fuzz/artifacts/<target>/; reproduce with `cargo +nightly fuzz run <target> <file>`.
#
# Long run (hours), e.g. overnight on a spare machine:
#   FUZZ_SECONDS=14400 FUZZ_JOBS=$(nproc) FUZZ_SANITIZER=address .ci/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-1}
sanitizer=${FUZZ_SANITIZER:-none}
work=${FUZZ_WORK:-$root/target/fuzz-corpus}

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz" >&2
    cargo install --locked cargo-fuzz
fi

cd fuzz
targets=${FUZZ_TARGETS:-$(cargo +nightly fuzz list)}
# Debug assertions on: integer overflow and other debug checks count as crashes.
cargo +nightly fuzz build --debug-assertions --sanitizer "$sanitizer"

failed=()
for t in $targets; do
    mkdir -p "$work/$t" "corpus/$t"
    echo "fuzz.sh: $t for ${seconds}s" >&2
    log=$work/$t.log
    parallel=()
    if ((jobs > 1)); then parallel=(-jobs="$jobs" -workers="$jobs"); fi
    if cargo +nightly fuzz run --debug-assertions --sanitizer "$sanitizer" "$t" "$work/$t" "corpus/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 "${parallel[@]}" >"$log" 2>&1; then
        execs=$({ cat "$log"; cat fuzz-*.log 2>/dev/null || true; } |
            awk '/stat::number_of_executed_units/ {s += $2} END {print s + 0}')
        rm -f fuzz-*.log
        echo "fuzz.sh: $t ok, $execs execs" >&2
    else
        echo "fuzz.sh: $t FAILED; last lines of $log:" >&2
        tail -n 40 "$log" >&2
        failed+=("$t")
    fi
done
if ((${#failed[@]})); then
    echo "fuzz.sh: crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz.sh: all targets clean" >&2
