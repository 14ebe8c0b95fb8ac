#!/usr/bin/env bash
# Scale-out on standard engines, on loopback: three Pushgate instances behind
# nginx, which routes every push by a consistent hash of its request path
# (the grouping key), and Prometheus scraping all three with honor_labels.
#
#   bash tests/scaleout.sh        (needs nginx and prometheus: apt-get install nginx-light prometheus)
#
# Checks: every group is on exactly one instance; Prometheus sees all of them.
# Then stops one instance and shows what is lost and how it comes back.
# Bounded in time; kills only the processes it started.
set -euo pipefail
cd "$(dirname "$0")/.."
GROUPS_N=${GROUPS_N:-300}
TMP=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]:-}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 200); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done; echo "not up: $1" >&2; return 1; }

cargo build --release --quiet
PORTS=()
for i in 0 1 2; do
    p=$(free_port); PORTS+=("$p")
    target/release/pushgate --web.listen-address="127.0.0.1:$p" --persistence.file="$TMP/pg$i.data" \
        --persistence.interval=1s 2>"$TMP/pg$i.log" &
    PIDS+=($!)
    wait_http "http://127.0.0.1:$p/-/ready"
done

PROXY=$(free_port)
cat >"$TMP/nginx.conf" <<NGINX
worker_processes 1; daemon off; pid $TMP/nginx.pid; error_log $TMP/nginx.err;
events { worker_connections 1024; }
http {
  access_log off; client_body_temp_path $TMP;
  upstream pushgates {
    # The grouping key is the request path: one group -> one instance.
    hash \$uri consistent;
    server 127.0.0.1:${PORTS[0]} max_fails=1 fail_timeout=5s;
    server 127.0.0.1:${PORTS[1]} max_fails=1 fail_timeout=5s;
    server 127.0.0.1:${PORTS[2]} max_fails=1 fail_timeout=5s;
  }
  server { listen 127.0.0.1:$PROXY;
    location /metrics/job { proxy_pass http://pushgates; proxy_next_upstream error timeout; }
  }
}
NGINX
nginx -c "$TMP/nginx.conf" & PIDS+=($!)
sleep 0.5

for g in $(seq 1 "$GROUPS_N"); do
    printf 'batch_rows{table="t%d"} %d\n' "$g" "$g" | curl -fs --data-binary @- \
        "http://127.0.0.1:$PROXY/metrics/job/etl/instance/host$g" || { echo "push $g failed"; exit 1; }
done

total=0
for i in 0 1 2; do
    n=$(curl -s "http://127.0.0.1:${PORTS[$i]}/metrics" | grep -c '^batch_rows{' || true)
    echo "instance $i holds $n groups"
    total=$((total + n))
done
[ "$total" -eq "$GROUPS_N" ] || { echo "FAIL: $total group copies for $GROUPS_N groups"; exit 1; }
echo "every group is on exactly one instance ($total copies for $GROUPS_N groups)"

PROM=$(free_port)
cat >"$TMP/prometheus.yml" <<PROMCFG
global: { scrape_interval: 1s }
scrape_configs:
  - job_name: pushgate
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:${PORTS[0]}', '127.0.0.1:${PORTS[1]}', '127.0.0.1:${PORTS[2]}']
PROMCFG
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
    --web.listen-address="127.0.0.1:$PROM" >"$TMP/prom.log" 2>&1 & PIDS+=($!)
wait_http "http://127.0.0.1:$PROM/-/ready"
query() { curl -s "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1" \
    | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)'; }
seen=0
for _ in $(seq 30); do
    seen=$(query 'count(batch_rows{job="etl"})')
    [ "$seen" = "$GROUPS_N" ] && break
    sleep 1
done
[ "$seen" = "$GROUPS_N" ] || { echo "FAIL: Prometheus sees $seen of $GROUPS_N groups"; exit 1; }
echo "Prometheus sees all $seen groups with their pushed job/instance (honor_labels)"

# Lose one instance.
moved=$(curl -s "http://127.0.0.1:${PORTS[2]}/metrics" | grep -o '^batch_rows{[^}]*instance="host[0-9]*"' | head -1 | grep -o 'host[0-9]*')
sleep 1.5  # let instance 2 write its snapshot (interval 1s)
kill "${PIDS[2]}"; wait "${PIDS[2]}" 2>/dev/null || true
lost=$(curl -s "http://127.0.0.1:${PORTS[0]}/metrics" "http://127.0.0.1:${PORTS[1]}/metrics" | grep -c '^batch_rows{' || true)
echo "instance 2 stopped: $((GROUPS_N - lost)) groups are not served until it is back"
# A push for one of its keys fails over to the next instance on the ring.
printf 'batch_rows{table="again"} 2\n' | curl -fs --data-binary @- "http://127.0.0.1:$PROXY/metrics/job/etl/instance/$moved"
for i in 0 1; do
    if curl -s "http://127.0.0.1:${PORTS[$i]}/metrics" | grep -q "instance=\"$moved\""; then
        echo "a push for $moved (owned by instance 2) went to instance $i meanwhile"
    fi
done
# Recovery: restart it on its persistence file; everything acknowledged comes back.
target/release/pushgate --web.listen-address="127.0.0.1:${PORTS[2]}" --persistence.file="$TMP/pg2.data" \
    2>"$TMP/pg2b.log" & PIDS+=($!)
wait_http "http://127.0.0.1:${PORTS[2]}/-/ready"
back=$(curl -s "http://127.0.0.1:${PORTS[2]}/metrics" | grep -c '^batch_rows{' || true)
echo "instance 2 restarted from its snapshot with $back groups"
total=$((lost + back))
[ "$total" -ge "$GROUPS_N" ] || { echo "FAIL: only $total of $GROUPS_N groups after recovery"; exit 1; }
echo "note: $moved now exists on two instances until the failover copy is deleted (see README)"
echo "OK: scale-out set-up verified"
