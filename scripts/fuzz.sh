#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for FUZZ_SECONDS (default 60) each, with a 10 s
# limit per input and inputs up to 1 MiB, and prints the
# executions, time and crashes of each run. Needs the nightly toolchain (rustup) and
# cargo-fuzz (`cargo install cargo-fuzz`). A crash leaves its input in
# fuzz/artifacts/<target>/: turn it into a regression test, then fix.
#
#   scripts/fuzz.sh                 # all targets, 60 s each
#   FUZZ_SECONDS=300 scripts/fuzz.sh params
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${FUZZ_SECONDS:-60}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    log="$(mktemp)"
    start=$(date +%s)
    # -timeout: an input that takes over 10 s is reported as a crash (slow unit), so a
    # super-linear routine fails the run; -max_len: inputs up to 1 MiB, big enough for it
    # to show (issue 14, "linear time on hostile input").
    if cargo +nightly fuzz run "$t" -- -max_total_time="$seconds" -timeout=10 \
        -max_len=1048576 -print_final_stats=1 >"$log" 2>&1; then
        result="no crash"
    else
        result="CRASH (see fuzz/artifacts/$t/)"
        status=1
    fi
    end=$(date +%s)
    execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo "?")
    echo "$t: $execs executions in $((end - start)) s (build included): $result"
    [ "$status" -eq 0 ] || tail -40 "$log"
    rm -f "$log"
done
exit "$status"
