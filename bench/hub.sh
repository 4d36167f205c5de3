#!/usr/bin/env bash
# Hub benchmark: a release infinit-hub on a loopback port with a fresh
# database, and examples/hub_bench driving CLIENTS concurrent clients for
# SECONDS per operation: public fetches of a network, signed re-pushes of
# it (signature checked, replay memory written durably), and signed
# endpoint publications (a durable write each). RUNS runs; the table of
# each run, then the median requests/s and p99 per operation.
#
#   bench/hub.sh                        # 16 clients, 10 s per operation, 3 runs
#   CLIENTS=64 SECONDS_PER_OP=5 RUNS=1 bench/hub.sh
#   SKIP_BUILD=1 bench/hub.sh           # reuse target/release
#
# Targets: fetch >= 2,000 req/s, signed push >= 500 req/s, p99 <= 50 ms.
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENTS=${CLIENTS:-16}
SECONDS_PER_OP=${SECONDS_PER_OP:-10}
RUNS=${RUNS:-3}
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --locked -q --bin infinit-hub --example hub_bench
HUB=$PWD/target/release/infinit-hub
BENCH=$PWD/target/release/examples/hub_bench

work=$(mktemp -d /var/tmp/infinit-hub-bench.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

INFINIT_LOG=warn setsid "$HUB" --listen 127.0.0.1:0 --data "$work/data" --port-file "$work/port" \
  </dev/null >"$work/hub.log" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { cat "$work/hub.log" >&2; echo "infinit-hub did not start" >&2; exit 1; }
url=http://127.0.0.1:$(cat "$work/port")

for run in $(seq "$RUNS"); do
  echo "## run $run"
  "$BENCH" --hub "$url" --clients "$CLIENTS" --seconds "$SECONDS_PER_OP" | tee "$work/run$run.txt"
done

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "| operation | req/s (median of $RUNS) | p99 ms (median) | target | met? |"
echo "|---|---|---|---|---|"
for op in fetch push publish; do
  rps=$(awk -v op="$op" '$1 == op {print $3}' "$work"/run*.txt | median)
  p99=$(awk -v op="$op" '$1 == op {print $5}' "$work"/run*.txt | median)
  case $op in
    fetch) target=2000 ;;
    *) target=500 ;;
  esac
  met=$(awk -v r="$rps" -v p="$p99" -v t="$target" 'BEGIN {print (r >= t && p <= 50) ? "yes" : "no"}')
  echo "| $op | $rps | $p99 | >= $target/s, p99 <= 50 ms | $met |"
done
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
echo
echo "infinit-hub peak RSS: $((hwm / 1024)) MiB; database: $(du -sh "$work/data" | cut -f1)"
