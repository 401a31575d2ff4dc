# Sourced by scripts that drive one `npm start` server with the shared harness (../shared/bench,
# read-only), started as compare-with-peer.sh starts the project: production settings, rate
# limits off, a fresh database, the 200 benchmark users provisioned with the harness's SQL.
# Needs PostgreSQL at 127.0.0.1:5432 (user postgres). Sets PROJECT, BENCH_SRC, PG, DB, PORT, WORK,
# APP_PID, NODE_PID and HARNESS (the harness's cli.js); `harness_app_start` starts the app,
# `harness_app_cleanup` (on EXIT) stops it and drops the database.

PROJECT="$(cd "${1:-.}" && pwd)"
BENCH_SRC="$PROJECT/../shared/bench"
PG=postgresql://postgres@127.0.0.1:5432
DB="measure_forum_$(date +%s)_$$"
PORT=${PORT:-4198}
WORK=$(mktemp -d)
APP_PID=""
NODE_PID=""
HARNESS="$WORK/bench/src/cli.js"

harness_app_cleanup() {
  [ -n "$APP_PID" ] && kill -TERM -- "-$APP_PID" 2>/dev/null || true
  sleep 2
  [ -n "$APP_PID" ] && kill -KILL -- "-$APP_PID" 2>/dev/null || true
  psql "$PG/postgres" -qc "drop database if exists \"$DB\" with (force)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}

rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# Installs the harness in $WORK, creates the database, starts the app and waits for /health;
# then provisions the benchmark users. Sets APP_PID (the process group) and NODE_PID.
harness_app_start() {
  mkdir -p "$WORK/bench" && cp -r "$BENCH_SRC/src" "$BENCH_SRC/package.json" "$BENCH_SRC/package-lock.json" "$WORK/bench/"
  (cd "$WORK/bench" && npm ci --no-audit --no-fund >"$WORK/npm.log" 2>&1) || { tail -5 "$WORK/npm.log"; exit 1; }
  psql "$PG/postgres" -qc "create database \"$DB\"" >/dev/null
  STARTED_NS=$(date +%s%N)
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
  READY_NS=$(date +%s%N)
  NODE_PID=$(ss -ltnpH "sport = :$PORT" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
  "$BENCH_SRC/provision/forum-sql.sh" "$PROJECT" "$PG/$DB" 200 >/dev/null
}
