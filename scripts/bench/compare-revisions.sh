#!/usr/bin/env bash
# Two revisions of this project side by side, in one run, through the shared harness: "is this
# change slower anywhere?" answered with the same workloads, machine and moment for both.
#
#   scripts/bench/compare-revisions.sh OLD_REF [NEW_DIR] [-- extra options for the harness's `compare`]
#
# A = OLD_REF (checked out into a temporary worktree, installed with its own lock file, started
# with its own `npm start`, so on the Node and start command it had), B = NEW_DIR (default: this
# checkout, as it is). Both run as ../shared/bench/compare-with-peer.sh runs the project:
# production settings, rate limits off, a fresh database each (dropped at the end), 200 benchmark
# users provisioned with the harness's SQL. B/A below 1 for a rate means B is slower.
# Example: scripts/bench/compare-revisions.sh 99d1c4b -- --workloads W1,W3,W5 --seconds 10
set -euo pipefail
OLD_REF=${1:?usage: compare-revisions.sh OLD_REF [NEW_DIR] [-- harness options]}; shift
NEW="$(pwd)"
if [ $# -gt 0 ] && [ "$1" != "--" ]; then NEW="$(cd "$1" && pwd)"; shift; fi
[ "${1:-}" = "--" ] && shift
HARNESS="$NEW/../shared/bench"
PG=postgresql://postgres@127.0.0.1:5432
STAMP=$(date +%Y%m%d_%H%M%S)
DB_A="rev_a_$STAMP"; DB_B="rev_b_$STAMP"
PORT_A=${PORT_A:-4196}; PORT_B=${PORT_B:-4197}
WORK=$(mktemp -d)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  sleep 2
  for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  psql "$PG/postgres" -qc "drop database if exists \"$DB_A\" with (force)" -c "drop database if exists \"$DB_B\" with (force)" >/dev/null 2>&1 || true
  git -C "$NEW" worktree remove --force "$WORK/old" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "installing the harness and $OLD_REF…" >&2
mkdir -p "$WORK/bench" && cp -r "$HARNESS/src" "$HARNESS/package.json" "$HARNESS/package-lock.json" "$WORK/bench/"
(cd "$WORK/bench" && npm ci --no-audit --no-fund >"$WORK/npm-bench.log" 2>&1) || { tail -5 "$WORK/npm-bench.log"; exit 1; }
git -C "$NEW" worktree add --detach "$WORK/old" "$OLD_REF" >/dev/null
(cd "$WORK/old" && npm ci --no-audit --no-fund >"$WORK/npm-old.log" 2>&1) || { tail -5 "$WORK/npm-old.log"; exit 1; }
psql "$PG/postgres" -qc "create database \"$DB_A\"" -c "create database \"$DB_B\"" >/dev/null

# $1 = project dir, $2 = database, $3 = port, $4 = log file. Same environment as compare-with-peer.sh.
start() {
  ( cd "$1" && exec setsid env DATABASE_URL="$PG/$2" NODE_ENV=production LOG_LEVEL=warn \
      JWT_SECRET="$(head -c 48 /dev/urandom | base64)" HOST=127.0.0.1 PORT="$3" ACCESS_TOKEN_TTL=7200 \
      RATE_LIMIT_LOGIN_FAILURES_PER_EMAIL=0 RATE_LIMIT_LOGIN_PER_IP=0 RATE_LIMIT_REFRESH_PER_IP=0 \
      RATE_LIMIT_REGISTER_PER_IP=0 REFRESH_REUSE_GRACE_SECONDS=0 EMAIL_COOLDOWN_SECONDS=0 \
      MAX_CONNECTIONS_PER_IP=100000 MAX_CONNECTIONS_PER_USER=100000 DATA_DIR="$WORK/data-$3" npm start >"$4" 2>&1 ) &
  PIDS+=($!)
}
# Sequentially: two builds at once would slow both start-ups for nothing.
for side in A B; do
  if [ $side = A ]; then dir="$WORK/old"; db=$DB_A; port=$PORT_A; else dir="$NEW"; db=$DB_B; port=$PORT_B; fi
  start "$dir" "$db" "$port" "$WORK/$side.log"
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -sf "http://127.0.0.1:$port/health" >/dev/null || { tail -20 "$WORK/$side.log"; echo "$side did not start" >&2; exit 1; }
  "$HARNESS/provision/forum-sql.sh" "$dir" "$PG/$db" 200 >/dev/null
done

pid_on() { ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }
OUT_DIR="${OUT_DIR:-$NEW/bench-results}"; mkdir -p "$OUT_DIR"
node "$WORK/bench/src/cli.js" compare --a "graphql=http://127.0.0.1:$PORT_A" --a-pid "$(pid_on $PORT_A)" \
  --b "graphql=http://127.0.0.1:$PORT_B" --b-pid "$(pid_on $PORT_B)" --out "$OUT_DIR/revisions-$STAMP.json" --provision existing "$@"
