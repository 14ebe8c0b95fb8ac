#!/usr/bin/env bash
# Real-client interop (issue #3), on loopback:
#   1. the official Go client (client_golang's push package, delimited
#      protobuf bodies) pushes (PUT), adds (POST) and deletes against the
#      release binary; the exact statuses are checked through a logging proxy;
#   2. a protobuf push and its text twin scrape identically;
#   3. a native histogram pushed by the Go client is served back identically
#      on a protobuf scrape;
#   4. a real Prometheus scrapes Pushgate with honor_labels: true, once plain
#      (text) and once with --enable-feature=native-histograms (it then asks
#      for protobuf), and its query API returns the pushed series, including
#      the native histogram.
#
#   bash tests/goclient.sh      (installs golang-go, golang-github-prometheus-
#                                client-golang-dev and prometheus if missing;
#                                needs root or sudo for that)
#
# Needs ../shared beside the repository (the Go pusher's source). Bounded in
# time (about a minute after the builds); kills only the processes it started.
#
# PUSHGATE=path/to/binary skips the cargo build. PUSHGATE=prometheus-pushgateway
# runs the same checks against the reference: Debian's 1.5.1 passes all but
# the JSON API's native buckets, which it predates, and now and then a check
# right after a DELETE (it only queues deletes; Pushgate applies them first).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
GOPUSH_SRC=../shared/clients/build-gopush.sh
[ -f "$GOPUSH_SRC" ] || { echo "FAIL: $GOPUSH_SRC not found (../shared must be beside the repository)"; exit 1; }

need=()
command -v go >/dev/null 2>&1 || need+=(golang-go)
[ -d /usr/share/gocode/src/github.com/prometheus/client_golang ] || need+=(golang-github-prometheus-client-golang-dev)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ "${#need[@]}" -gt 0 ]; then
    echo "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
CLIENT_GOLANG=/usr/share/gocode/src/github.com/prometheus/client_golang
grep -q NativeHistogramBucketFactor "$CLIENT_GOLANG/prometheus/histogram.go" \
    || { echo "FAIL: client_golang in $CLIENT_GOLANG predates native histograms (need 1.14+)"; exit 1; }

TMP=$(mktemp -d)
PIDS=()
FAILS=0
cleanup() {
    local rc=$?
    [ "$rc" -ne 0 ] && [ "$FAILS" -eq 0 ] && echo "FAIL: aborted by an unexpected error (exit $rc)"
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT
# stop PID: ends one process we started and forgets it.
stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    local keep=() p
    for p in "${PIDS[@]:-}"; do [ "$p" != "$1" ] && [ -n "$p" ] && keep+=("$p"); done
    PIDS=("${keep[@]:-}")
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 200); do curl -fs --max-time 1 -o /dev/null "$1" && return 0; sleep 0.1; done; echo "not up: $1" >&2; return 1; }

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
# check DESCRIPTION COMMAND...: PASS or FAIL by the command's exit status.
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }

# --- build the Go programs and the server
echo "building the Go pushers (client_golang $(dpkg-query -W -f='${Version}' golang-github-prometheus-client-golang-dev 2>/dev/null || echo '?'), $(go version | cut -d' ' -f3))"
timeout 300 bash "$GOPUSH_SRC" "$TMP/gopush" >/dev/null
GOWORK="$TMP/gowork"
mkdir -p "$GOWORK/src/nativepush"
cp tests/goclient/nativepush/main.go "$GOWORK/src/nativepush/"
(cd "$GOWORK" && GO111MODULE=off GOPATH="$GOWORK:/usr/share/gocode" GOCACHE="$GOWORK/cache" \
    timeout 300 go build -o "$TMP/nativepush" nativepush)
if [ -z "${PUSHGATE:-}" ]; then
    cargo build --release --quiet
    PUSHGATE=target/release/pushgate
fi

PG_PORT=$(free_port)
PG="http://127.0.0.1:$PG_PORT"
# Memory only: no --persistence.file.
"$PUSHGATE" --web.listen-address="127.0.0.1:$PG_PORT" 2>"$TMP/pg.log" & PIDS+=($!)
wait_http "$PG/-/ready"

gopush() { timeout 20 "$TMP/gopush" "$@" >>"$TMP/go.log" 2>&1; }
nativepush() { timeout 20 "$TMP/nativepush" "$@" 2>&1; }
scrape() { curl -fsS --max-time 5 "$PG/metrics"; }
api() { curl -fsS --max-time 5 "$PG/api/v1/metrics"; }
# put_text PATH BODY: pushes BODY as text with curl, prints the status.
put_text() { printf '%s' "$2" | curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X PUT --data-binary @- "$PG$1"; }
# group LABEL_PAIRS: the text-scrape lines (HELP/TYPE too) of the go_client_*
# families, keeping only the series of that group (e.g. 'instance="",job="gojob"').
group() { scrape | awk -v g="{$1" '/^# (HELP|TYPE) go_client_/ || (/^go_client_/ && index($0, g)) '; }

# What the Go pusher's registry (../shared/clients/gopush/main.go) must scrape
# as, for the group {job="gojob"} (instance="" is added as upstream does).
expected_gojob() {
    sed "s/@/$1/" <<'EOF'
# HELP go_client_gauge A gauge from the Go client.
# TYPE go_client_gauge gauge
go_client_gauge{@,kind="a"} 1.5
go_client_gauge{@,kind="b"} -2
# HELP go_client_latency_seconds Latency.
# TYPE go_client_latency_seconds histogram
go_client_latency_seconds_bucket{@,le="0.1"} 1
go_client_latency_seconds_bucket{@,le="1"} 2
go_client_latency_seconds_bucket{@,le="+Inf"} 3
go_client_latency_seconds_sum{@} 5.55
go_client_latency_seconds_count{@} 3
# HELP go_client_ops_total Ops.
# TYPE go_client_ops_total counter
go_client_ops_total{@} 42
# HELP go_client_size_bytes Size.
# TYPE go_client_size_bytes summary
go_client_size_bytes{@,quantile="0.5"} 100
go_client_size_bytes_sum{@} 100
go_client_size_bytes_count{@} 1
EOF
}
# has RE / lacks RE: the last saved scrape ($TMP/scrape) has a line matching RE.
has() { grep -Eq -- "$1" "$TMP/scrape" || { echo "    no line matches $1"; return 1; }; }
lacks() {
    local m; m=$(grep -E -- "$1" "$TMP/scrape" || true)
    [ -z "$m" ] || { head -3 <<<"$m" | sed 's/^/    unexpected: /'; return 1; }
}
same_text() { diff -u "$1" "$2" >"$TMP/diff" || { sed 's/^/    /' "$TMP/diff"; return 1; }; }

echo
echo "=== Go client: push (PUT), add (POST), delete"
# A group to be replaced by the Go client's PUT.
check "text pre-push of {job=gojob} answered 200" [ "$(put_text /metrics/job/gojob 'stale_metric 1
')" = 200 ]
check "gopush -mode push exits 0" gopush -url "$PG" -job gojob -mode push
group 'instance="",job="gojob"' >"$TMP/got"
expected_gojob 'instance="",job="gojob"' >"$TMP/want"
check "Go client families scrape as expected for {job=gojob} (counter 42, histogram buckets 1/2/3, summary, gauges)" \
    same_text "$TMP/want" "$TMP/got"
scrape >"$TMP/scrape"
check "PUT replaced the whole group (stale_metric gone)" lacks '^stale_metric'
check "push_time_seconds set for {job=gojob}" has '^push_time_seconds\{instance="",job="gojob"\} 1\.[0-9]+e\+09$'
check "push_failure_time_seconds 0 for {job=gojob}" has '^push_failure_time_seconds\{instance="",job="gojob"\} 0$'

# POST keeps families the push does not mention and replaces those it does.
check "text pre-push of {job=gojob,instance=i2} answered 200" [ "$(put_text /metrics/job/gojob/instance/i2 '# TYPE go_client_ops_total counter
go_client_ops_total 1
keep_me 7
')" = 200 ]
check "gopush -mode add -instance i2 exits 0" gopush -url "$PG" -job gojob -instance i2 -mode add
group 'instance="i2",job="gojob"' >"$TMP/got"
expected_gojob 'instance="i2",job="gojob"' >"$TMP/want"
check "POST replaced go_client_ops_total 1 -> 42 and added the other families in {instance=i2}" same_text "$TMP/want" "$TMP/got"
scrape >"$TMP/scrape"
check "POST kept keep_me 7 (not in the Go client's body)" has '^keep_me\{instance="i2",job="gojob"\} 7$'

# The JSON API lists both groups with the Go client's families.
api >"$TMP/api.json"
check "/api/v1/metrics lists {job=gojob} and {job=gojob,instance=i2} with go_client_ops_total 42" python3 - "$TMP/api.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "success", d["status"]
groups = {tuple(sorted(g["labels"].items())): g for g in d["data"]}
for key in [(("job", "gojob"),), (("instance", "i2"), ("job", "gojob"))]:
    g = groups[key]
    assert g["last_push_successful"] is True, key
    f = g["go_client_ops_total"]
    assert f["type"] == "COUNTER" and f["help"] == "Ops.", f
    assert [m["value"] for m in f["metrics"]] == ["42"], f
    h = g["go_client_latency_seconds"]["metrics"][0]
    assert h["buckets"] == {"0.1": "1", "1": "2"} and h["count"] == "3" and h["sum"] == "5.55", h
    s = g["go_client_size_bytes"]["metrics"][0]
    assert s["quantiles"] == {"0.5": "100"} and s["count"] == "1" and s["sum"] == "100", s
PY

# Exact statuses: the same three calls through a transparent logging proxy.
# proxy_start NAME: starts tests/goclient/statusproxy.py in front of Pushgate,
# logging to $TMP/NAME.log; sets PROXY_PORT and PROXY_PID.
proxy_start() {
    python3 tests/goclient/statusproxy.py "$PG_PORT" "$TMP/$1.port" "$TMP/$1.log" & PIDS+=($!)
    PROXY_PID=$!
    for _ in $(seq 100); do [ -s "$TMP/$1.port" ] && break; sleep 0.05; done
    PROXY_PORT=$(cat "$TMP/$1.port")
}
proxy_start proxy
PROXY="http://127.0.0.1:$PROXY_PORT"
check "via proxy: gopush push, add, delete exit 0" bash -c "
    gp() { timeout 20 '$TMP/gopush' -url '$PROXY' -job statusjob \"\$@\" >>'$TMP/go.log' 2>&1; }
    gp -mode push && gp -instance i2 -mode add && gp -mode delete"
cat >"$TMP/want" <<'EOF'
PUT /metrics/job/statusjob 200 application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited
POST /metrics/job/statusjob/instance/i2 200 application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited
DELETE /metrics/job/statusjob 202 -
EOF
check "exact statuses seen by the Go client: PUT 200, POST 200, DELETE 202 (protobuf bodies)" same_text "$TMP/want" "$TMP/proxy.log"
stop "$PROXY_PID"
curl -fsS --max-time 5 -X DELETE -o /dev/null "$PG/metrics/job/statusjob/instance/i2"

# Delete: client_golang's Pusher.Delete() errors unless the answer is exactly
# 202 Accepted, so gopush exiting 0 already proves "deletes (exactly 202)".
check "gopush -mode delete exits 0 (client_golang requires exactly 202)" gopush -url "$PG" -job gojob -mode delete
scrape >"$TMP/scrape"
check "{job=gojob} is gone from /metrics" lacks 'instance="",job="gojob"'
check "{job=gojob,instance=i2} is still there" has '^go_client_ops_total\{instance="i2",job="gojob"\} 42$'
api >"$TMP/api.json"
check "{job=gojob} is gone from /api/v1/metrics" python3 -c '
import json, sys
assert {"job": "gojob"} not in [g["labels"] for g in json.load(open(sys.argv[1]))["data"]]' "$TMP/api.json"
check "gopush -mode delete -instance i2 exits 0" gopush -url "$PG" -job gojob -instance i2 -mode delete
scrape >"$TMP/scrape"
check "no gojob series left" lacks 'job="gojob"'

echo
echo "=== a protobuf push and its text twin scrape identically"
check "gopush -mode push -job pbtwin exits 0" gopush -url "$PG" -job pbtwin -mode push
check "text twin PUT to /metrics/job/txttwin answered 200" [ "$(put_text /metrics/job/txttwin '# HELP go_client_gauge A gauge from the Go client.
# TYPE go_client_gauge gauge
go_client_gauge{kind="a"} 1.5
go_client_gauge{kind="b"} -2
# HELP go_client_ops_total Ops.
# TYPE go_client_ops_total counter
go_client_ops_total 42
# HELP go_client_latency_seconds Latency.
# TYPE go_client_latency_seconds histogram
go_client_latency_seconds_bucket{le="0.1"} 1
go_client_latency_seconds_bucket{le="1"} 2
go_client_latency_seconds_bucket{le="+Inf"} 3
go_client_latency_seconds_sum 5.55
go_client_latency_seconds_count 3
# HELP go_client_size_bytes Size.
# TYPE go_client_size_bytes summary
go_client_size_bytes{quantile="0.5"} 100
go_client_size_bytes_sum 100
go_client_size_bytes_count 1
')" = 200 ]
scrape >"$TMP/scrape"
grep 'job="pbtwin"' "$TMP/scrape" | grep -v '^push_time_seconds' | sed 's/job="pbtwin"/job="TWIN"/' >"$TMP/pb"
grep 'job="txttwin"' "$TMP/scrape" | grep -v '^push_time_seconds' | sed 's/job="txttwin"/job="TWIN"/' >"$TMP/txt"
check "text scrape: protobuf-pushed and text-pushed twins give the same $(wc -l <"$TMP/pb") lines" \
    bash -c "[ -s '$TMP/pb' ] && diff -u '$TMP/pb' '$TMP/txt'"
# The JSON API differs in one place, as upstream's does: a text body has an
# explicit +Inf bucket, which the API lists; the Go client's protobuf omits it.
api >"$TMP/api.json"
check "JSON API: the twins match (but for the +Inf bucket only a text body has, as upstream)" python3 - "$TMP/api.json" <<'PY'
import json, sys
def norm(g, job):
    out = {}
    for name, fam in g.items():
        if name in ("labels", "last_push_successful"):
            out[name] = json.loads(json.dumps(fam).replace(job, "TWIN")); continue
        if name == "push_time_seconds":
            continue
        fam = dict(fam); fam.pop("time_stamp")
        fam = json.loads(json.dumps(fam).replace(job, "TWIN"))
        for m in fam["metrics"]:
            m.get("buckets", {}).pop("+Inf", None)
        out[name] = fam
    return out
d = {g["labels"]["job"]: g for g in json.load(open(sys.argv[1]))["data"]}
a, b = norm(d["pbtwin"], "pbtwin"), norm(d["txttwin"], "txttwin")
assert a == b, (a, b)
PY

echo
echo "=== Go client: native histogram"
check "nativepush (job native) exits 0" bash -c "timeout 20 '$TMP/nativepush' -url '$PG' -job native -mode push >>'$TMP/go.log' 2>&1"
verify_native() {
    local out; out=$(nativepush -url "$PG" -job native -mode verify) || { echo "    $out"; return 1; }
    echo "    $out" | head -1
}
check "protobuf scrape serves the native histogram back identically (schema, zero bucket, spans, deltas)" verify_native
scrape >"$TMP/scrape"
cat >"$TMP/want" <<'EOF'
# HELP pushgate_test_native_seconds A native histogram pushed by the Go client.
# TYPE pushgate_test_native_seconds histogram
pushgate_test_native_seconds_bucket{instance="",job="native",le="0.1"} 4
pushgate_test_native_seconds_bucket{instance="",job="native",le="1"} 6
pushgate_test_native_seconds_bucket{instance="",job="native",le="+Inf"} 7
pushgate_test_native_seconds_sum{instance="",job="native"} 3.6029999999999998
pushgate_test_native_seconds_count{instance="",job="native"} 7
EOF
grep pushgate_test_native_seconds "$TMP/scrape" >"$TMP/got" || true
check "text scrape shows the native histogram's classic parts" same_text "$TMP/want" "$TMP/got"
api >"$TMP/api.json"
# As the Pushgateway 1.8+ does (Debian's 1.5.1 lists only the classic buckets).
check "/api/v1/metrics shows the native buckets (count 7, a zero bucket, negative and positive buckets)" python3 - "$TMP/api.json" <<'PY'
import json, sys
g = [g for g in json.load(open(sys.argv[1]))["data"] if g["labels"] == {"job": "native"}][0]
m = g["pushgate_test_native_seconds"]["metrics"][0]
assert m["count"] == "7", m
b = m["buckets"]
assert isinstance(b, list) and sum(int(x[3]) for x in b) == 7, b
assert any(float(x[2]) <= 0 for x in b) and any(float(x[1]) < 0 < float(x[2]) for x in b), b
PY

# For Prometheus: the Go client's group again, with an instance label to show
# that honor_labels keeps both job and instance as pushed.
check "gopush -mode push -job gojob -instance prom exits 0" gopush -url "$PG" -job gojob -instance prom -mode push

# --- Prometheus
# prom_start NAME [FLAGS...]: starts Prometheus scraping Pushgate every second
# (job "pushgate"). A second job scrapes it through the logging proxy and
# drops every sample: it only records the Accept header Prometheus sends and
# the Content-Type Pushgate answers (in $TMP/NAME-accept.log).
PROM=""
prom_start() {
    local name=$1; shift
    local port; port=$(free_port)
    mkdir -p "$TMP/$name"
    proxy_start "$name-accept"
    cat >"$TMP/$name/prometheus.yml" <<PROMCFG
global: { scrape_interval: 1s, scrape_timeout: 1s }
scrape_configs:
  - job_name: pushgate
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:$PG_PORT']
  - job_name: accept-probe
    static_configs:
      - targets: ['127.0.0.1:$PROXY_PORT']
    metric_relabel_configs:
      - { source_labels: [__name__], regex: '.*', action: drop }
PROMCFG
    prometheus --config.file="$TMP/$name/prometheus.yml" --storage.tsdb.path="$TMP/$name/tsdb" \
        --web.listen-address="127.0.0.1:$port" "$@" >"$TMP/$name/prom.log" 2>&1 & PIDS+=($!)
    PROM_PID=$!
    PROM="http://127.0.0.1:$port"
    wait_http "$PROM/-/ready" || { tail -20 "$TMP/$name/prom.log"; return 1; }
}
# query EXPR: the instant-query result as JSON (a list).
query() {
    curl -fsS --max-time 5 "$PROM/api/v1/query" --data-urlencode "query=$1" \
        | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["data"]["result"]))'
}
# value EXPR: the value of the single float sample, or "none".
value() { query "$1" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r[0]["value"][1] if len(r)==1 and "value" in r[0] else "none")'; }
# wait_value EXPR WANT: waits up to 30 s for EXPR to equal WANT.
wait_value() {
    local v=none
    for _ in $(seq 60); do v=$(value "$1"); [ "$v" = "$2" ] && return 0; sleep 0.5; done
    echo "    $1 = $v after 30 s, want $2"; return 1
}
is_empty() { [ "$(query "$1")" = "[]" ] || { echo "    $1 = $(query "$1")"; return 1; }; }
# negotiated NAME ACCEPT_PREFIX CONTENT_TYPE_PREFIX: the last scrape through the
# proxy asked for ACCEPT_PREFIX... and got CONTENT_TYPE_PREFIX...
negotiated() {
    local line; line=$(grep '^GET /metrics 200 ' "$TMP/$1-accept.log" | tail -1)
    echo "    $line"
    case "$line" in "GET /metrics 200 accept=$2"*" -> $3"*) return 0 ;; *) return 1 ;; esac
}

echo
echo "=== Prometheus $(prometheus --version 2>&1 | head -1 | cut -d' ' -f3), plain (text scrape), honor_labels: true"
if prom_start plain; then
    check "Prometheus sees go_client_ops_total{job=\"gojob\",instance=\"prom\"} 42 (pushed labels kept)" \
        wait_value 'go_client_ops_total{job="gojob",instance="prom"}' 42
    check "no exported_job/exported_instance labels (honor_labels)" is_empty '{exported_job!=""} or {exported_instance!=""}'
    check "target up" wait_value 'up{job="pushgate"}' 1
    check "classic histogram bucket go_client_latency_seconds_bucket{le=\"1\"} 2" \
        wait_value 'go_client_latency_seconds_bucket{job="gojob",le="1"}' 2
    check "summary quantile go_client_size_bytes{quantile=\"0.5\"} 100" \
        wait_value 'go_client_size_bytes{job="gojob",quantile="0.5"}' 100
    check "gauge go_client_gauge{kind=\"b\"} -2" wait_value 'go_client_gauge{job="gojob",kind="b"}' -2
    check "text scrape: the native histogram arrives as its classic parts (_count 7)" \
        wait_value 'pushgate_test_native_seconds_count{job="native"}' 7
    check "text scrape: no native histogram sample without the feature flag" is_empty 'pushgate_test_native_seconds'
    check "Prometheus asked for OpenMetrics first and Pushgate answered text 0.0.4 (as the Pushgateway)" \
        negotiated plain 'application/openmetrics-text;version=1.0.0,' 'text/plain; version=0.0.4'
    stop "$PROM_PID"; stop "$PROXY_PID"
else
    fail "Prometheus (plain) did not start"
fi

echo
echo "=== Prometheus with --enable-feature=native-histograms (protobuf scrape), honor_labels: true"
if prom_start native --enable-feature=native-histograms; then
    check "Prometheus sees histogram_count(pushgate_test_native_seconds{job=\"native\"}) 7" \
        wait_value 'histogram_count(pushgate_test_native_seconds{job="native"})' 7
    check "pushgate_test_native_seconds is a native histogram sample (\"histogram\" field)" python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert len(r) == 1 and "histogram" in r[0], r
h = r[0]["histogram"][1]
assert h["count"] == "7" and abs(float(h["sum"]) - 3.603) < 1e-9, h
assert r[0]["metric"].get("job") == "native", r
' "$(query 'pushgate_test_native_seconds{job="native"}')"
    check "histogram_quantile(0.5, native) falls in the bucket of the median observation 0.1" python3 -c '
import sys; q = float(sys.argv[1]); assert 0.09 < q < 0.11, q
' "$(value 'histogram_quantile(0.5, pushgate_test_native_seconds{job="native"})')"
    check "protobuf scrape: only the native sample is ingested (no classic _count series)" \
        is_empty 'pushgate_test_native_seconds_count'
    check "go_client_ops_total{job=\"gojob\",instance=\"prom\"} 42 over protobuf" \
        wait_value 'go_client_ops_total{job="gojob",instance="prom"}' 42
    check "classic histogram over protobuf: go_client_latency_seconds_bucket{le=\"+Inf\"} 3" \
        wait_value 'go_client_latency_seconds_bucket{job="gojob",le="+Inf"}' 3
    check "no exported_job/exported_instance labels (honor_labels)" is_empty '{exported_job!=""} or {exported_instance!=""}'
    check "Prometheus asked for protobuf first and Pushgate answered delimited protobuf" \
        negotiated native 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,' \
        'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited'
    stop "$PROM_PID"; stop "$PROXY_PID"
else
    fail "Prometheus (native histograms) did not start"
fi

echo
if [ "$FAILS" -gt 0 ]; then
    echo "--- pushgate log (tail)"; tail -20 "$TMP/pg.log"
    echo "--- Go client log (tail)"; tail -20 "$TMP/go.log"
    echo "FAIL: $FAILS check(s) failed"
    exit 1
fi
echo "OK: Go client and Prometheus interop verified"
