#!/usr/bin/env bash
# Regenerates pushgateway-1.5.1.gob{,.scrape,.api.json} with the real Go
# Pushgateway (Debian package prometheus-pushgateway 1.5.1). See README.md.
set -euo pipefail
OUT=$(cd "$(dirname "$0")" && pwd)
CONF=$(cd "$OUT/../../../shared/conformance" && pwd)
TMP=$(mktemp -d)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# A zone with a non-zero, non-whole-hour offset, so the gob times carry one.
TZ=Asia/Kolkata prometheus-pushgateway --web.listen-address=127.0.0.1:$PORT \
    --persistence.file="$TMP/pg.gob" --persistence.interval=1s >"$TMP/pg.log" 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true' EXIT
U=http://127.0.0.1:$PORT
for _ in $(seq 50); do curl -sf "$U/-/ready" >/dev/null && break; sleep 0.1; done
push() { # method path body-on-stdin; prints the status
    curl -s -o /dev/null -w "%{http_code} $1 $2\n" -X "$1" --data-binary @- "$U/metrics/$2"
}

# Plain job: gauge, counter, untyped, with HELP.
push PUT job/plain <<'EOF'
# HELP temperature_celsius Current temperature.
# TYPE temperature_celsius gauge
temperature_celsius{room="kitchen"} 21.5
temperature_celsius{room="cellar"} -3.25
# HELP jobs_processed_total Jobs processed since start.
# TYPE jobs_processed_total counter
jobs_processed_total 1027
# HELP free_form Something untyped.
free_form 42
EOF

# job + instance.
push PUT job/batch/instance/host-1 <<'EOF'
# TYPE last_run_seconds gauge
last_run_seconds 1.5e+09
EOF

# Extra grouping labels, and a summary and a histogram.
push PUT job/batch/instance/host-2/env/prod/team/data <<'EOF'
# HELP rpc_duration_seconds RPC latency.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 0.05
rpc_duration_seconds{quantile="0.99"} 0.3
rpc_duration_seconds_sum 17.25
rpc_duration_seconds_count 120
# HELP request_size_bytes Request sizes.
# TYPE request_size_bytes histogram
request_size_bytes_bucket{le="100"} 3
request_size_bytes_bucket{le="1000"} 10
request_size_bytes_bucket{le="+Inf"} 12
request_size_bytes_sum 4711
request_size_bytes_count 12
EOF

# Base64 job with a slash, base64 instance with an empty value.
push PUT job@base64/L3Zhci9iYWNrdXA=/instance@base64/= <<'EOF'
backup_ok 1
EOF

# Label values with quote, backslash, newline escapes and UTF-8, in a
# UTF-8 grouping label.
push PUT job/escapes/city/Z%C3%BCrich <<'EOF'
# HELP odd_labels Help with a \\ backslash and a \n newline.
# TYPE odd_labels gauge
odd_labels{path="C:\\temp\\",quote="say \"hi\"",multi="a\nb",utf8="größe ✓"} 7
EOF

# A protobuf push (delimited MetricFamily).
python3 - "$CONF" <<'EOF' | curl -s -o /dev/null -w "%{http_code} PUT job/proto\n" -X PUT \
    -H 'Content-Type: application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited' \
    --data-binary @- "$U/metrics/job/proto"
import sys
sys.path.insert(0, sys.argv[1])
from pgdiff import pb_family
body = pb_family(name="proto_gauge", help="Pushed as protobuf.", type="gauge",
                 metric=[{"label": {"kind": "pb"}, "gauge": {"value": 2.5}}])
sys.stdout.buffer.write(body)
EOF

# Later: POST a new family into the existing plain group, so its families
# carry different timestamps.
sleep 1.2
push POST job/plain <<'EOF'
# TYPE added_later gauge
added_later 1
EOF

# A failed push: same name, other type, other group -> 400, and the group
# records push_failure_time_seconds.
push PUT job/conflict <<'EOF'
# TYPE conflict_metric gauge
conflict_metric 1
EOF
sleep 1.1
push PUT job/conflict <<'EOF'
# TYPE temperature_celsius counter
temperature_celsius 5
EOF

sleep 1.5
curl -sf "$U/metrics" >"$OUT/pushgateway-1.5.1.gob.scrape"
curl -sf "$U/api/v1/metrics" >"$OUT/pushgateway-1.5.1.gob.api.json"
kill -TERM $PID
wait $PID || true
trap - EXIT
cp "$TMP/pg.gob" "$OUT/pushgateway-1.5.1.gob"
cat "$TMP/pg.log"
rm -rf "$TMP"
