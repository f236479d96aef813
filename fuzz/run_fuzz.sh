#!/usr/bin/env bash
# run_fuzz.sh FUZZER CORPUS SECONDS — bounded libFuzzer run. New inputs go to
# a scratch folder (the committed corpus is read only); libFuzzer's own
# closing line ("Done N runs in S second(s)") is printed for the log.
set -euo pipefail
fuzzer=$1 corpus=$2 seconds=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
log=$scratch/log
set +e
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$scratch/" -print_final_stats=1 "$scratch" "$corpus" >"$log" 2>&1
rc=$?
set -e
runs=$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 || true)
echo "$(basename "$fuzzer"): ${runs:-no completion line} (exit $rc)"
if [ $rc -ne 0 ]; then
  tail -n 60 "$log"
  for a in "$scratch"/crash-* "$scratch"/leak-* "$scratch"/timeout-* "$scratch"/oom-*; do
    [ -e "$a" ] && { echo "artifact: $a"; od -An -tx1 "$a" | head -20; }
  done
  exit $rc
fi
