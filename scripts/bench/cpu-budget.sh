#!/usr/bin/env bash
# Where the machine's CPU goes per operation when the shared harness drives `npm start`
# (README Performance, Round 6): the server's, PostgreSQL's and the harness's own CPU per
# operation of each workload, since all three share this machine's cores.
#
#   scripts/bench/cpu-budget.sh [PROJECT_DIR] [WORKLOADS]      (default W3,W5; needs PostgreSQL at 127.0.0.1:5432)
#
# The app runs as compare-with-peer.sh runs it (see harness-app.sh). The server's and the
# harness's CPU come from the harness (`--pid`, /proc over the measured phase). PostgreSQL's is
# the sum over every `postgres` process of utime + stime from /proc, sampled every 0.5 s from
# just before the harness starts the workload to just after it ends: it includes the workload's
# set-up (logins, conversations), so it is an upper bound per operation.
set -euo pipefail
# shellcheck source=harness-app.sh
source "$(dirname "$0")/harness-app.sh"
WORKLOADS=${2:-W3,W5}
trap harness_app_cleanup EXIT
CLK_TCK=$(getconf CLK_TCK)

# Sums the CPU ticks every postgres process used while it ran, until $1 exists.
postgres_ticks() {
  declare -A first last
  local pid ticks total=0
  while [ ! -e "$1" ]; do
    for pid in $(pgrep -x postgres); do
      ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) || continue
      [ -z "$ticks" ] && continue
      [ -z "${first[$pid]:-}" ] && first[$pid]=$ticks
      last[$pid]=$ticks
    done
    sleep 0.5
  done
  for pid in "${!last[@]}"; do total=$((total + ${last[$pid]} - ${first[$pid]})); done
  echo "$total"
}

harness_app_start
sleep 3
printf '%-4s %12s %10s %14s %14s %12s\n' workload 'ops/s' 'server ms' 'postgres ms ≤' 'harness ms' 'all ms ≤'
for w in ${WORKLOADS//,/ }; do
  rm -f "$WORK/stop"
  postgres_ticks "$WORK/stop" >"$WORK/pg-$w" &
  sampler=$!
  node "$HARNESS" run --target "graphql=http://127.0.0.1:$PORT" --pid "$NODE_PID" \
    --workloads "$w" --out "$WORK/$w.json" >"$WORK/$w.txt" 2>"$WORK/$w.err" || { cat "$WORK/$w.err"; exit 1; }
  touch "$WORK/stop"; wait "$sampler"
  node -e '
    const [file, ticks, hz] = process.argv.slice(1);
    const result = JSON.parse(require("node:fs").readFileSync(file, "utf8")).results[0];
    const rate = Object.entries(result.metrics).find(([key]) => /_per_s$|^rps$/.test(key))?.[1];
    const seconds = result.params.duration;
    if (!rate || !seconds || result.serverCpu == null) { console.log(result.id, "no rate, duration or server CPU in the result"); process.exit(0); }
    const perOp = (percentOfCore) => (percentOfCore / 100) * 1000 / rate;
    const server = perOp(result.serverCpu), harness = perOp(result.clientCpu);
    const postgres = (Number(ticks) / Number(hz)) * 1000 / (rate * seconds);
    const f = (ms) => ms.toFixed(2).padStart(12);
    console.log(result.id.padEnd(8) + String(rate).padStart(12) + f(server) + f(postgres).padStart(15) + f(harness).padStart(15) + f(server + postgres + harness).padStart(13));
  ' "$WORK/$w.json" "$(cat "$WORK/pg-$w")" "$CLK_TCK"
done
