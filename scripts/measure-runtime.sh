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
PROJECT="$(cd "${1:-.}" && pwd)"
BENCH_SRC="$PROJECT/../shared/bench"
PG=postgresql://postgres@127.0.0.1:5432
DB="measure_forum_$(date +%s)_$$"
PORT=${PORT:-4198}
WORK=$(mktemp -d)
APP_PID=""

cleanup() {
  [ -n "$APP_PID" ] && kill -TERM -- "-$APP_PID" 2>/dev/null || true
  sleep 2
  [ -n "$APP_PID" ] && kill -KILL -- "-$APP_PID" 2>/dev/null || true
  psql "$PG/postgres" -qc "drop database if exists \"$DB\" with (force)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
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

mkdir -p "$WORK/bench" && cp -r "$BENCH_SRC/src" "$BENCH_SRC/package.json" "$BENCH_SRC/package-lock.json" "$WORK/bench/"
(cd "$WORK/bench" && npm ci --no-audit --no-fund >"$WORK/npm.log" 2>&1) || { tail -5 "$WORK/npm.log"; exit 1; }
psql "$PG/postgres" -qc "create database \"$DB\"" >/dev/null

started=$(date +%s%N)
( cd "$PROJECT" && exec setsid env DATABASE_URL="$PG/$DB" NODE_ENV=production LOG_LEVEL=warn \
    JWT_SECRET="$(head -c 48 /dev/urandom | base64)" HOST=127.0.0.1 PORT="$PORT" ACCESS_TOKEN_TTL=7200 \
    RATE_LIMIT_LOGIN_FAILURES_PER_EMAIL=0 RATE_LIMIT_LOGIN_PER_IP=0 RATE_LIMIT_REFRESH_PER_IP=0 \
    RATE_LIMIT_REGISTER_PER_IP=0 REFRESH_REUSE_GRACE_SECONDS=0 EMAIL_COOLDOWN_SECONDS=0 DATA_DIR="$WORK/data" \
    npm start >"$WORK/app.log" 2>&1 ) &
APP_PID=$!
for _ in $(seq 1 1200); do
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 0.05
done
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || { tail -20 "$WORK/app.log"; echo "the app did not start" >&2; exit 1; }
ready=$(date +%s%N)
NODE_PID=$(ss -ltnpH "sport = :$PORT" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
echo "node: $(cat "/proc/$NODE_PID/cmdline" | tr '\0' ' ')"
echo "node version: $(cd "$PROJECT" && npm exec -- node -v)"
echo "start-up to /health 200: $(( (ready - started) / 1000000 )) ms (npm start, compiled build already present if it is used)"

"$BENCH_SRC/provision/forum-sql.sh" "$PROJECT" "$PG/$DB" 200 >/dev/null
sleep 10
echo "idle RSS (10 s after start, users provisioned): $(rss_mib "$NODE_PID") MiB"

for w in W1 W5; do
  rm -f "$WORK/stop"
  peak_rss "$NODE_PID" "$WORK/stop" >"$WORK/peak" &
  sampler=$!
  node "$WORK/bench/src/cli.js" run --target "graphql=http://127.0.0.1:$PORT" --pid "$NODE_PID" \
    --workloads "$w" --out "$WORK/$w.json" >"$WORK/$w.txt" 2>"$WORK/$w.err" || { cat "$WORK/$w.err"; exit 1; }
  touch "$WORK/stop"; wait "$sampler"
  echo "peak RSS under $w: $(cat "$WORK/peak") MiB"
  cat "$WORK/$w.txt"
done
echo "RSS after the workloads: $(rss_mib "$NODE_PID") MiB"
