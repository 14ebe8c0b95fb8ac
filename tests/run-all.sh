#!/usr/bin/env bash
# The whole test suite (README: "Run the tests"). Installs its own prerequisites
# on a fresh Debian machine: the reference Pushgateway for the differential
# conformance run, and with --ci also cargo-fuzz for the fuzz smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
CI_MODE=0
[ "${1:-}" = "--ci" ] && CI_MODE=1
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

step() { printf '\n=== %s\n' "$*"; }

need=()
command -v prometheus-pushgateway >/dev/null 2>&1 || need+=(prometheus-pushgateway)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if [ "${#need[@]}" -gt 0 ]; then
    step "installing ${need[*]} (reference Pushgateway, scale-out peers)"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The packages' own services are not needed (tests use their own loopback ports).
for svc in prometheus-pushgateway prometheus nginx; do
    $SUDO systemctl stop "$svc" >/dev/null 2>&1 || true
done

step "format and lints"
cargo fmt --all --check
cargo clippy --all-targets -- -D warnings

step "unit, property, corpus-replay and integration tests"
# io_uring needs locked memory; raise the limit where we may.
ulimit -l unlimited 2>/dev/null || true
cargo test --all-targets

step "benches compile and run once"
cargo test --benches

step "docs"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet

step "conformance against the reference Pushgateway"
cargo build --release --quiet
python3 ../shared/conformance/pgdiff.py --target target/release/pushgate
python3 ../shared/conformance/pgdiff.py --target target/release/pushgate \
    --cases tests/conformance/own_cases.py

step "Python prometheus_client against the real binary"
python3 -c 'import prometheus_client' 2>/dev/null \
    || pip install -q prometheus_client 2>/dev/null \
    || pip install -q --break-system-packages prometheus_client
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
target/release/pushgate --web.listen-address="127.0.0.1:$PORT" 2>/dev/null &
PG_PID=$!
trap 'kill "$PG_PID" 2>/dev/null || true' EXIT
python3 - "$PORT" <<'PY'
import sys, time, urllib.request
for _ in range(200):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/-/ready", timeout=1)
        break
    except OSError:
        time.sleep(0.05)
PY
python3 tests/python_client.py "127.0.0.1:$PORT"
kill "$PG_PID"
wait "$PG_PID" || true
trap - EXIT

step "web UI in headless Chromium"
bash tests/browser.sh

step "scale-out: three instances behind nginx, scraped by Prometheus"
bash tests/scaleout.sh

step "real clients: Go client_golang push/add/delete, Prometheus scrapes (text and native histograms)"
PUSHGATE=target/release/pushgate bash tests/goclient.sh

if [ "$CI_MODE" = 1 ]; then
    step "fuzz smoke run (nightly, bounded)"
    if ! command -v cargo-fuzz >/dev/null 2>&1; then
        cargo install cargo-fuzz --locked --quiet
    fi
    cargo fmt --all --check --manifest-path fuzz/Cargo.toml
    for target in $(cargo +nightly fuzz list); do
        mkdir -p "fuzz/corpus/$target"
        cargo +nightly fuzz run "$target" "fuzz/corpus/$target" -- -max_total_time="${FUZZ_SECONDS:-20}" -rss_limit_mb=2048
    done
fi
step "all tests passed"
