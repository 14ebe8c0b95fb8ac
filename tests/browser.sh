#!/usr/bin/env bash
# Browser test of the web UI: the release binary on a free loopback port,
# a few groups pushed with curl, then tests/browser/ui.mjs drives headless
# Chromium (Debian's package) through playwright-core: list, filter, expand,
# Delete Group, Status tab, Delete All (see ui.mjs).
#
# Installs what it needs: chromium (apt; root or sudo) and the pinned
# playwright-core (npm ci). Needs node >= 20.
# UPDATE_SCREENSHOT=1 writes docs/ui.png (the README's screenshot);
# otherwise the screenshot goes to /tmp/pushgate-ui.png.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

if ! command -v chromium >/dev/null 2>&1; then
    echo "installing chromium (apt)"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq chromium >/dev/null
fi
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null; then
    echo "tests/browser.sh needs node >= 20 (playwright-core)" >&2
    exit 1
fi
# npm ci unless the pinned playwright-core is already installed.
if ! (cd tests/browser && node -e 'const want = require("./package.json").dependencies["playwright-core"];
        process.exit(require("./node_modules/playwright-core/package.json").version === want ? 0 : 1)') 2>/dev/null; then
    (cd tests/browser && timeout 300 npm ci --no-audit --no-fund --loglevel=error)
fi
cargo build --release --quiet

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
LOG=$(mktemp /tmp/pushgate-browser.XXXXXX.log)
target/release/pushgate --web.listen-address="127.0.0.1:$PORT" --web.enable-admin-api 2>"$LOG" &
PG_PID=$!
cleanup() {
    kill "$PG_PID" 2>/dev/null || true
    wait "$PG_PID" 2>/dev/null || true
}
trap cleanup EXIT

for _ in $(seq 100); do
    curl -fsS --max-time 1 "$URL/-/ready" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS --max-time 2 "$URL/-/ready" >/dev/null || { echo "server not ready:"; cat "$LOG"; exit 1; }

push() { # path; body on stdin
    curl -fsS --max-time 5 --data-binary @- "$URL/metrics/$1"
}
for db in db1 db2; do
    push "job/backup/instance/$db" <<EOF
# HELP backup_last_success_timestamp_seconds When the last backup finished.
# TYPE backup_last_success_timestamp_seconds gauge
backup_last_success_timestamp_seconds 1763770000
# HELP backup_size_bytes Size of the last backup.
# TYPE backup_size_bytes gauge
backup_size_bytes{volume="data"} 4.2e+10
backup_size_bytes{volume="wal"} 1.3e+09
# HELP backup_duration_seconds Time the backup took.
# TYPE backup_duration_seconds summary
backup_duration_seconds{quantile="0.5"} 312
backup_duration_seconds{quantile="0.99"} 401.5
backup_duration_seconds_sum 9360
backup_duration_seconds_count 30
EOF
done
push job/nightly_batch <<'EOF'
# HELP batch_job_duration_seconds Duration of batch job runs.
# TYPE batch_job_duration_seconds histogram
batch_job_duration_seconds_bucket{le="0.5"} 3
batch_job_duration_seconds_bucket{le="1"} 7
batch_job_duration_seconds_bucket{le="5"} 12
batch_job_duration_seconds_bucket{le="+Inf"} 13
batch_job_duration_seconds_sum 27.3
batch_job_duration_seconds_count 13
# HELP batch_records_processed_total Records processed.
# TYPE batch_records_processed_total counter
batch_records_processed_total 182734
EOF
# A hostile grouping label value: target="<script>alert(1)</script>" (base64url).
push job/web_checks/instance/probe-eu/target@base64/PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg <<'EOF'
# HELP probe_success Whether the probe succeeded.
# TYPE probe_success gauge
probe_success 1
probe_duration_seconds 0.042
EOF
# A push the consistency check refuses (a gauge stored as counter): the group
# exists with "Last push failed!".
status=$(printf '# TYPE backup_size_bytes counter\nbackup_size_bytes 1\n' \
    | curl -sS --max-time 5 -o /dev/null -w '%{http_code}' --data-binary @- "$URL/metrics/job/broken")
[ "$status" = 400 ] || { echo "expected the clashing push to get 400, got $status"; exit 1; }

SHOT=/tmp/pushgate-ui.png
[ "${UPDATE_SCREENSHOT:-0}" = 1 ] && SHOT="$PWD/docs/ui.png" && mkdir -p docs
PUSHGATE_URL="$URL/" SCREENSHOT="$SHOT" CHROMIUM="$(command -v chromium)" \
    timeout 180 node tests/browser/ui.mjs || { echo "--- server log"; cat "$LOG"; exit 1; }
rm -f "$LOG"
