#!/usr/bin/env bash
# The fuzz suite: every parser of outside input (config, state, IP sources' answers, DNS messages, provider
# answers) under libFuzzer via cargo-fuzz, on the nightly toolchain. Not part of the test command.
#
#   bash scripts/fuzz.sh [seconds per target] [target...]     (default: 100 s each, every target)
#
# Seeds come from fuzz/seeds/<target>; the growing corpus stays in fuzz/corpus/<target> (not committed).
# A crash stops the script with the reproducer in fuzz/artifacts/<target>/ (replay: cargo +nightly fuzz run
# <target> <file>).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-100}
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  targets=(config state source_answer dns_answer rfc2136_answer provider_answers)
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  cp -n "seeds/$t"/* "corpus/$t/" 2>/dev/null || true
  echo "== $t for ${secs}s"
  cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=8192 \
    -timeout=10 -print_final_stats=1 2>&1 | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE|==[0-9]+==|SUMMARY|Test unit written)" || true
  if ls "artifacts/$t"/crash-* "artifacts/$t"/timeout-* "artifacts/$t"/oom-* >/dev/null 2>&1; then
    echo "$t: found a problem; see fuzz/artifacts/$t" >&2
    exit 1
  fi
done
echo "fuzzing done: ${#targets[@]} target(s), ${secs}s each"
