#!/usr/bin/env bash
# Runtime figures of `npm start` as a user runs it (README Performance, "Runtime"):
# start-up time to /health 200, idle RSS, and peak RSS under the shared harness's W1 and W5.
#
#   scripts/measure-runtime.sh [PROJECT_DIR]      (needs PostgreSQL at 127.0.0.1:5432, user postgres)
#
# The app runs as compare-with-peer.sh runs it (production settings, rate limits off, fresh
# database, 200 benchmark users provisioned with the harness's SQL). The harness (../shared/bench,
# read-only) is copied to a temporary folder and installed there. RSS is that of the process
# listening on the port, sampled every 100 ms from /proc.
set -euo pipefail
# shellcheck source=bench/harness-app.sh
source "$(dirname "$0")/bench/harness-app.sh"
trap harness_app_cleanup EXIT

# Samples the RSS of $1 every 100 ms until $2 exists, then prints the peak in MiB.
peak_rss() {
  local pid=$1 stop=$2 peak=0 kib
  while [ ! -e "$stop" ]; do
    kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "$kib" -gt "$peak" ] && peak=$kib
    sleep 0.1
  done
  awk -v k="$peak" 'BEGIN { printf "%.1f", k / 1024 }'
}

harness_app_start
echo "node: $(cat "/proc/$NODE_PID/cmdline" | tr '\0' ' ')"
echo "node version: $(cd "$PROJECT" && npm exec -- node -v)"
echo "start-up to /health 200: $(( (READY_NS - STARTED_NS) / 1000000 )) ms (npm start, compiled build already present if it is used)"
sleep 10
echo "idle RSS (10 s after start, users provisioned): $(rss_mib "$NODE_PID") MiB"

for w in W1 W5; do
  rm -f "$WORK/stop"
  peak_rss "$NODE_PID" "$WORK/stop" >"$WORK/peak" &
  sampler=$!
  node "$HARNESS" run --target "graphql=http://127.0.0.1:$PORT" --pid "$NODE_PID" \
    --workloads "$w" --out "$WORK/$w.json" >"$WORK/$w.txt" 2>"$WORK/$w.err" || { cat "$WORK/$w.err"; exit 1; }
  touch "$WORK/stop"; wait "$sampler"
  echo "peak RSS under $w: $(cat "$WORK/peak") MiB"
  cat "$WORK/$w.txt"
done
echo "RSS after the workloads: $(rss_mib "$NODE_PID") MiB"
