#!/usr/bin/env bash
# End-to-end load comparison on loopback: Pushgate vs the reference Pushgateway
# (default and --push.disable-consistency-check) vs nginx `return 200`, all
# driven by wrk in turn in the same run, reported as ratios (absolute numbers
# drift on shared machines). Bounded in time; kills only what it started.
#
# The push rates of the servers compared (Pushgate on 1 core and on all,
# nginx with 1 worker and with one per CPU, the Pushgateway default and
# unchecked) are measured in ROUNDS interleaved rounds, every server running
# throughout, each group store wiped before each run; each rate is the
# median of its rounds, so a burst of load from elsewhere on the machine
# hits every server alike rather than one of them. Pushgate on all cores,
# nginx with 1 worker and the Pushgateway are then measured the same way
# with a new connection per push, as short-lived jobs push.
#
# Usage: bash benches/load.sh            (from the repository root)
# Env:   DUR=8 (seconds per wrk run)  ROUNDS=3  POP_GROUPS=10000 POP_SERIES=100 (1M series)
#        SKIP_REFERENCE=1 to measure Pushgate alone.
# Needs: wrk, nginx, prometheus-pushgateway, python3 (apt-get install wrk nginx-light prometheus-pushgateway)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${DUR:-8}
ROUNDS=${ROUNDS:-3}
POP_GROUPS=${POP_GROUPS:-10000}
POP_SERIES=${POP_SERIES:-100}
BENCH=../shared/bench
ROOT=$PWD
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() { for _ in $(seq 200); do curl -fs -o /dev/null "http://127.0.0.1:$1${2:-/-/ready}" && return 0; sleep 0.05; done; echo "server on $1 not ready" >&2; return 1; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
push_rate() { # port [wrk script [seconds]] -> requests/s
    (cd "$BENCH" && PG_GROUPS=1000 BODY=body.txt wrk -t1 -c16 -d"${3:-$DUR}s" -s "${2:-push.lua}" "http://127.0.0.1:$1") \
        | awk '/Requests\/sec/ {printf "%.0f", $2}'
}
# A new connection per push (`push_close.lua`): short runs, as each push
# leaves a connection in TIME_WAIT behind (the kernel keeps 131072 by default).
close_rate() { # port -> requests/s, a connection per request
    push_rate "$1" "$ROOT/benches/push_close.lua" $(( DUR < 3 ? DUR : 3 ))
}
scrape_time() { # port [curl args] -> median seconds of 3 scrapes
    for _ in 1 2 3; do curl -s -o /dev/null -w '%{time_total}\n' "${@:2}" "http://127.0.0.1:$1/metrics"; done | sort -n | sed -n 2p
}
start_pushgate() { local port; port=$(free_port)
    cargo build --release --quiet
    target/release/pushgate --web.listen-address="127.0.0.1:$port" "$@" 2>"$TMP/pushgate-$port.log" &
    PIDS+=($!); LAST_PID=$!; wait_ready "$port"; LAST_PORT=$port; }
start_pushgateway() { local port; port=$(free_port)
    prometheus-pushgateway --web.listen-address="127.0.0.1:$port" --persistence.file= "$@" 2>"$TMP/pgw-$port.log" &
    PIDS+=($!); LAST_PID=$!; wait_ready "$port"; LAST_PORT=$port; }
# nginx `return 200`: one worker (the reference ceiling), or with "all" one
# worker per CPU, each with its own SO_REUSEPORT listener and left unpinned,
# as Pushgate's cores are by default (without reuseport one worker takes
# most connections).
start_nginx() { local port; port=$(free_port)
    local workers="worker_processes 1;" listen="listen 127.0.0.1:$port;"
    if [ "${1:-}" = all ]; then
        workers="worker_processes auto;"; listen="listen 127.0.0.1:$port reuseport;"
    fi
    mkdir -p "$TMP/nginx-$port"
    cat >"$TMP/nginx-$port/nginx.conf" <<NGINX
$workers daemon off; pid $TMP/nginx-$port/nginx.pid; error_log $TMP/nginx-$port/error.log;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path $TMP/nginx-$port; keepalive_requests 1000000;
  server { $listen location / { return 200; } } }
NGINX
    nginx -c "$TMP/nginx-$port/nginx.conf" &
    PIDS+=($!); LAST_PID=$!; sleep 0.5; LAST_PORT=$port; }
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

echo "# load comparison $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(uname -r), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "# wrk -t1 -c16 -d${DUR}s, 1 KB PUTs (12 samples, 4 families) over 1000 groups"

wipe() { curl -fs -o /dev/null -X PUT "http://127.0.0.1:$1/api/v1/admin/wipe"; }
median() { tr ' ' '\n' <<<"$*" | sed '/^$/d' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# Every server compared on push rate, started once; port and whether its
# store is wiped (admin API) before a run.
NAMES=(pg1 pg); declare -A PORT PIDOF RATES WIPE
start_pushgate --runtime.cores=1 --web.enable-admin-api; PORT[pg1]=$LAST_PORT; PIDOF[pg1]=$LAST_PID; WIPE[pg1]=1
start_pushgate --web.enable-admin-api; PORT[pg]=$LAST_PORT; PIDOF[pg]=$LAST_PID; WIPE[pg]=1
if [ "${SKIP_REFERENCE:-0}" != 1 ]; then
    NAMES+=(ng nga gw gwu)
    start_nginx; PORT[ng]=$LAST_PORT; PIDOF[ng]=$LAST_PID; WIPE[ng]=0
    start_nginx all; PORT[nga]=$LAST_PORT; PIDOF[nga]=$LAST_PID; WIPE[nga]=0
    start_pushgateway --web.enable-admin-api; PORT[gw]=$LAST_PORT; PIDOF[gw]=$LAST_PID; WIPE[gw]=1
    start_pushgateway --web.enable-admin-api --push.disable-consistency-check
    PORT[gwu]=$LAST_PORT; PIDOF[gwu]=$LAST_PID; WIPE[gwu]=1
fi
# Measures the named servers with RATE (a function of the port) in ROUNDS
# interleaved rounds, each store wiped before each run, into the array OUT
# (a list of rates per server), and prints them.
in_rounds() { # OUT RATE LABEL server...
    local -n out=$1; local rate=$2 label=$3 round n; shift 3
    for round in $(seq "$ROUNDS"); do
        for n in "$@"; do
            [ "${WIPE[$n]}" = 1 ] && wipe "${PORT[$n]}"
            out[$n]="${out[$n]:-} $("$rate" "${PORT[$n]}")"
        done
    done
    for n in "$@"; do printf '%-4s pushes/s per round%s:%s\n' "$n" "$label" "${out[$n]}"; done
}
in_rounds RATES push_rate "" "${NAMES[@]}"
# The same servers with a connection per push (TCP set-up and tear-down
# weigh most); Pushgate on all cores.
CLOSE_NAMES=(pg); [ "${SKIP_REFERENCE:-0}" != 1 ] && CLOSE_NAMES+=(ng gw gwu)
declare -A CLOSE
in_rounds CLOSE close_rate ", a connection per push" "${CLOSE_NAMES[@]}"
PG1=$(median "${RATES[pg1]}"); PG=$(median "${RATES[pg]}"); PGC=$(median "${CLOSE[pg]}")
echo "pushgate 1 core (checked)          pushes/s: $PG1 (median)"
echo "pushgate all cores (checked)       pushes/s: $PG (median)"
echo "pushgate, a connection per push    pushes/s: $PGC (median)"
if [ "${SKIP_REFERENCE:-0}" != 1 ]; then
    NG=$(median "${RATES[ng]}"); NGA=$(median "${RATES[nga]}")
    GW=$(median "${RATES[gw]}"); GWU=$(median "${RATES[gwu]}")
    NGC=$(median "${CLOSE[ng]}"); GWC=$(median "${CLOSE[gw]}"); GWUC=$(median "${CLOSE[gwu]}")
    echo "nginx return 200                   pushes/s: $NG (median)"
    echo "nginx return 200, a worker per CPU pushes/s: $NGA (median)"
    echo "pushgateway default                pushes/s: $GW (median)"
    echo "pushgateway unchecked              pushes/s: $GWU (median)"
    echo "a connection per push: nginx $NGC, pushgateway default $GWC, unchecked $GWUC (medians)"
    for n in ng nga gw gwu; do stop "${PIDOF[$n]}"; done
fi
stop "${PIDOF[pg1]}"
PG_PORT=${PORT[pg]}; wipe "$PG_PORT"
# Latency at about half the peak rate (the target's load): wrk keeps a
# fixed number of requests in flight, so the rate follows from the number of
# connections. Each of 1 to 4 is run; the one whose rate is nearest half the
# peak above gives the target's figure.
NEAR=""; NEAR_OFF=1000
for c in 1 2 3 4; do
    LAT=$( (cd "$BENCH" && PG_GROUPS=1000 BODY=body.txt wrk -t1 -c"$c" -d"${DUR}s" --latency -s push.lua "http://127.0.0.1:$PG_PORT") )
    LAT_RATE=$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$LAT")
    LAT_P99=$(awk '/ 99%/ {print $2}' <<<"$LAT")
    PCT=$((100 * LAT_RATE / (PG > 0 ? PG : 1)))
    ROW="p99 $LAT_P99 at $LAT_RATE/s (wrk -c$c, $PCT% of peak)"
    echo "pushgate latency: $ROW"
    OFF=$((PCT > 50 ? PCT - 50 : 50 - PCT))
    if [ "$OFF" -lt "$NEAR_OFF" ]; then NEAR="$ROW"; NEAR_OFF=$OFF; fi
done
echo "pushgate latency nearest half the peak: $NEAR"
stop "${PIDOF[pg]}"

start_pushgate --persistence.file="$TMP/wal.data" --persistence.mode=wal
PGW_WAL=$(push_rate "$LAST_PORT"); stop "$LAST_PID"
start_pushgate --persistence.file="$TMP/snap.data"
PG_SNAP=$(push_rate "$LAST_PORT"); stop "$LAST_PID"
echo "pushgate snapshot mode             pushes/s: $PG_SNAP"
echo "pushgate WAL mode (fsync per batch) pushes/s: $PGW_WAL ($(python3 -c "print(f'{$PGW_WAL/max($PG_SNAP,1):.2f}')")x snapshot mode)"

start_pushgate; P=$LAST_PORT; PID=$LAST_PID
python3 "$BENCH/populate.py" "127.0.0.1:$P" "$POP_GROUPS" "$POP_SERIES" 4
# The first scrape after populating renders every family's text on its owning
# core (text is rendered once per push, lazily); later scrapes reuse it.
PG_FIRST=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$P/metrics")
PG_FULL=$(push_rate "$P")
PG_SCRAPE=$(scrape_time "$P"); PG_SCRAPE_GZ=$(scrape_time "$P" -H 'Accept-Encoding: gzip')
PG_RSS=$(rss_mb "$PID")
# Every group pushed again between two scrapes (a fleet's steady state):
# with the same values (families keep their text), then with new ones
# (every family is rendered again).
python3 benches/support/repush.py "127.0.0.1:$P" "$POP_GROUPS" "$POP_SERIES" 0
PG_SAME=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$P/metrics")
python3 benches/support/repush.py "127.0.0.1:$P" "$POP_GROUPS" "$POP_SERIES" 1
PG_CHURN=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$P/metrics")
stop "$PID"
echo "pushgate with $((POP_GROUPS * POP_SERIES)) series stored     pushes/s: $PG_FULL ($(python3 -c "print(f'{$PG_FULL/max($PG,1):.2f}')")x empty store)"
echo "pushgate scrape: first ${PG_FIRST}s, then ${PG_SCRAPE}s, gzip ${PG_SCRAPE_GZ}s, RSS ${PG_RSS} MB"
echo "pushgate scrape after every group pushed again: same values ${PG_SAME}s, new values ${PG_CHURN}s"

start_pushgate --web.enable-admin-api; P=$LAST_PORT; PID=$LAST_PID
python3 "$BENCH/populate.py" "127.0.0.1:$P" 100000 1 8
(cd "$BENCH" && PG_GROUPS=1000 BODY=body.txt wrk -t1 -c8 -d3s -s push.lua "http://127.0.0.1:$P" >/dev/null) &
WRK=$!
sleep 1
WIPE=$(curl -s -o /dev/null -w '%{time_total}' -X PUT "http://127.0.0.1:$P/api/v1/admin/wipe")
wait "$WRK" || true
stop "$PID"
echo "pushgate wipe of 100k groups under push load: ${WIPE}s"

if [ "${SKIP_REFERENCE:-0}" != 1 ]; then
    start_pushgateway --push.disable-consistency-check; P=$LAST_PORT; PID=$LAST_PID
    python3 "$BENCH/populate.py" "127.0.0.1:$P" "$POP_GROUPS" "$POP_SERIES" 4
    GW_SCRAPE=$(scrape_time "$P"); GW_SCRAPE_GZ=$(scrape_time "$P" -H 'Accept-Encoding: gzip')
    GW_RSS=$(rss_mb "$PID"); stop "$PID"
    echo "pushgateway scrape: ${GW_SCRAPE}s, gzip ${GW_SCRAPE_GZ}s, RSS ${GW_RSS} MB"
    python3 - "$PG" "$NG" "$GW" "$GWU" "$PG_FULL" "$PG_SCRAPE" "$GW_SCRAPE" "$PG_SCRAPE_GZ" "$GW_SCRAPE_GZ" "$PG_RSS" "$GW_RSS" "$PG1" "$PG_FIRST" "$NGA" "$PG_CHURN" \
        "$PGC" "$NGC" "$GWC" "$GWUC" <<'PY'
import sys
(pg, ng, gw, gwu, full, s, gs, sz, gsz, rss, grss, pg1, first, nga, churn,
 pgc, ngc, gwc, gwuc) = map(float, sys.argv[1:])
rows = [
    ("pushes/s vs nginx return 200 (both 1 core/worker)", pg1 / ng, ">= 0.8"),
    ("pushes/s vs nginx return 200 (pushgate on all cores)", pg / ng, ">= 0.8"),
    ("pushes/s vs nginx return 200 (both on all cores, reuseport)", pg / nga, "(>= 0.8)"),
    ("pushes/s vs pushgateway default", pg / max(gw, 1), "hundreds"),
    ("pushes/s vs pushgateway unchecked", pg / max(gwu, 1), ">= 4"),
    ("pushes/s, a connection per push, vs nginx return 200 (1 worker)", pgc / max(ngc, 1), "(none)"),
    ("pushes/s, a connection per push, vs pushgateway default", pgc / max(gwc, 1), "(none)"),
    ("pushes/s, a connection per push, vs pushgateway unchecked", pgc / max(gwuc, 1), "(none)"),
    ("pushes/s 1M stored vs empty", full / max(pg, 1), ">= 0.9"),
    ("scrape 1M time vs pushgateway", s / gs, "<= 0.05"),
    ("first scrape 1M after populating vs pushgateway", first / gs, "(<= 0.05)"),
    ("scrape 1M after every group pushed with new values vs pushgateway", churn / gs, "(<= 0.05)"),
    ("scrape 1M gzip time vs pushgateway", sz / gsz, "<= 0.1"),
    ("RSS 1M vs pushgateway", rss / grss, "<= 0.167"),
]
print("\n| ratio | measured | target |\n|---|---|---|")
for name, v, target in rows:
    print(f"| {name} | {v:.3f} | {target} |")
PY
fi
