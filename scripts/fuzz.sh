#!/usr/bin/env bash
# Fuzzes the decoders for a bounded time, with libFuzzer and AddressSanitizer:
#   scripts/fuzz.sh [seconds per target]     (default 60)
# Builds into its own scratch path, .build-fuzz. Prints executions and findings
# per target; exits non-zero if any target crashed (a crash input is kept
# under .build-fuzz/artifacts/<target>/ and reproduces with
#   FUZZ_MESSAGE=... .build-fuzz/debug/<product> <crash file>).
# The corpus each target grows is kept in Fuzz/corpus-<target> (not committed);
# committed seeds are in Fuzz/seeds/<target>.
#
# FUZZ_ENGINE=plain skips libFuzzer: the same harnesses are built with
# AddressSanitizer only and run their own random-mutation loop.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -eq 0 ]]; then
    echo "usage: scripts/fuzz.sh [seconds per target, > 0]" >&2
    exit 2
fi
engine="${FUZZ_ENGINE:-libfuzzer}"
scratch="$repo_root/.build-fuzz"
# Swift's crash backtracer would attach to a crashing input and stall before
# libFuzzer's own handler saves it: libFuzzer reports crashes itself.
export SWIFT_BACKTRACE=enable=no

# The fuzz targets: name, SwiftPM executable product, environment for it.
# A product built with -DLIBFUZZER must define LLVMFuzzerTestOneInput; in a
# plain build it must accept `--seconds N` and run a bounded loop itself.
# To add a target, add a line (and its product to `products` below).
targets=(
    "frame          ProtosFuzz  FUZZ_MESSAGE=frame"
    "kitchen-sink   ProtosFuzz  FUZZ_MESSAGE=kitchen-sink"
    "server-pipeline RPCFuzz"
)
products=(ProtosFuzz RPCFuzz)

build() {
    local flags=(--scratch-path "$scratch")
    if [[ "$engine" == libfuzzer ]]; then
        # SwiftPM passes each --sanitize as a separate -sanitize= flag and the
        # Swift driver keeps only the last, so ASan goes in explicitly too.
        flags+=(--sanitize fuzzer -Xswiftc -sanitize=address,fuzzer -Xswiftc -DLIBFUZZER
                -Xcc -fsanitize=address)
    else
        flags+=(--sanitize address)
    fi
    mkdir -p "$scratch"
    for product in "${products[@]}"; do
        echo "== building $product ($engine)"
        # The sanitizer link is noisy (ld.gold warnings): the log is shown on failure.
        if ! swift build "${flags[@]}" --product "$product" >"$scratch/build-$product.log" 2>&1; then
            grep -v 'Cannot export local symbol' "$scratch/build-$product.log" | tail -n 60 >&2
            echo "fuzz.sh: building $product failed" >&2
            exit 1
        fi
    done
    bin_dir="$(swift build "${flags[@]}" --show-bin-path)"
}

# run_target NAME PRODUCT ENV...: fuzzes one target; returns non-zero on a finding.
run_target() {
    local name="$1" product="$2"
    shift 2
    local corpus="Fuzz/corpus-$name" artifacts="$scratch/artifacts/$name" log="$scratch/fuzz-$name.log"
    mkdir -p "$corpus" "$artifacts"
    local seeds=()
    [[ -d "Fuzz/seeds/$name" ]] && seeds=("Fuzz/seeds/$name")
    echo "== fuzzing $name for ${seconds}s"
    local status=0
    if [[ "$engine" == libfuzzer ]]; then
        # -timeout: an input running 10s is a finding (a hang); `timeout`
        # bounds the whole run should anything else stall.
        timeout --kill-after=10 $((seconds + 120)) env "$@" "$bin_dir/$product" \
            -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
            -artifact_prefix="$artifacts/" -close_fd_mask=1 "$corpus" "${seeds[@]}" >"$log" 2>&1 || status=$?
        local executions
        executions="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")"
        if [[ $status -eq 0 ]]; then
            echo "$name: $executions executions, no findings (corpus: $(find "$corpus" -type f | wc -l) inputs)"
        else
            tail -n 60 "$log"
            echo "$name: FINDING (exit $status) after $executions executions; input saved in $artifacts/, log $log"
        fi
    else
        timeout --kill-after=10 $((seconds + 120)) env "$@" "$bin_dir/$product" --seconds "$seconds" \
            >"$log" 2>&1 || status=$?
        tail -n 40 "$log"
        [[ $status -eq 0 ]] || echo "$name: FINDING (exit $status), log $log"
    fi
    return $status
}

build
failed=()
for target in "${targets[@]}"; do
    read -r -a fields <<<"$target"
    run_target "${fields[@]}" || failed+=("${fields[0]}")
done
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz.sh: findings in: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz.sh: no findings"
