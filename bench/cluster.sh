#!/usr/bin/env bash
# Cluster benchmark: three infinit storage nodes (replication factor 3) and
# a client mount, GlusterFS replica 3 (three bricks on this host, from
# ../shared/peers/gluster.sh) and a local folder, measured in the same run.
#
#   bench/cluster.sh                              # 1 GiB, 10,000 files, 3 runs, median
#   SIZE_MB=256 FILES=2000 RUNS=1 bench/cluster.sh   # quicker
#   SKIP_BUILD=1 ... / SKIP_GLUSTER=1 ...          # reuse target/release / no GlusterFS column
#
# Prints a markdown table (test, local, GlusterFS, infinit, infinit vs
# GlusterFS, target, met?), the p50/p99 latency of one compare-and-swap of a
# block through consensus (three nodes on loopback, in-process: `cargo test
# --release --lib cas_latency -- --ignored`), and the peak RSS of each node.
# Needs root (FUSE, drop_caches, mount -t glusterfs).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB=${SIZE_MB:-1024}
FILES=${FILES:-10000}
RUNS=${RUNS:-3}
GLUSTER=${GLUSTER:-$(cd .. && pwd)/shared/peers/gluster.sh}
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --locked -q
BIN=${BIN:-$PWD/target/release/infinit}
. bench/lib.sh

gmnt=$work/gluster
node_pids=()
cleanup_cluster() {
  for p in "${node_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  if [ -z "${SKIP_GLUSTER:-}" ] && mountpoint -q "$gmnt" 2>/dev/null; then
    GLUSTER_WORK=$work/gluster-bricks "$GLUSTER" down "$gmnt" || true
  fi
}
trap 'cleanup_cluster; cleanup' EXIT

# One home per device: the owner's (creates the network), three storage nodes, one client.
inf() { local h=$1; shift; INFINIT_HOME=$work/$h INFINIT_USER=bench "$BIN" "$@"; }
inf owner user create >/dev/null
inf owner user export --full --output "$work/bench.user" >/dev/null
inf owner network create --name net --replication-factor 3 >/dev/null
inf owner volume create --name vol --network net >/dev/null
inf owner network export --name net --output "$work/net.network" >/dev/null
inf owner volume export --name vol --output "$work/vol.volume" >/dev/null
for h in s1 s2 s3 client; do
  inf $h user import --input "$work/bench.user" >/dev/null
  inf $h network import --input "$work/net.network" >/dev/null
  inf $h volume import --input "$work/vol.volume" >/dev/null
  if [ $h = client ]; then
    inf $h network link --name bench/net >/dev/null
  else
    inf $h silo create filesystem --name s --capacity 100GB >/dev/null
    inf $h network link --name bench/net --silo s >/dev/null
  fi
done
port=${PORT:-14100}
i=2
for h in s1 s2 s3; do
  peer=(); [ $h != s1 ] && peer=(--peer "127.0.0.2:$port")
  INFINIT_HOME=$work/$h INFINIT_USER=bench setsid "$BIN" network run --name bench/net \
    --listen 127.0.0.$i --port $port "${peer[@]}" </dev/null >"$work/$h.log" 2>&1 &
  node_pids+=($!)
  i=$((i + 1))
done
mkdir -p "$mnt"
INFINIT_HOME=$work/client INFINIT_USER=bench setsid "$BIN" volume run --name bench/vol --mountpoint "$mnt" \
  --listen 127.0.0.5 --peer "127.0.0.2:$port" </dev/null >"$work/client.log" 2>&1 &
node_pids+=($!)
for _ in $(seq 600); do mountpoint -q "$mnt" && break; sleep 0.1; done
mountpoint -q "$mnt" || { cat "$work/client.log" >&2; echo "the cluster volume did not mount" >&2; exit 1; }
mkdir -p "$local_dir"
if [ -z "${SKIP_GLUSTER:-}" ]; then
  GLUSTER_WORK=$work/gluster-bricks "$GLUSTER" up "$gmnt"
fi

tarball=$work/tree.tar
make_tree_tarball "$tarball"

# MiB under the three storage nodes' homes (their silos).
silos_mb() { { du -sm "$work"/s1 "$work"/s2 "$work"/s3 2>/dev/null || true; } | awk '{s += $1} END {print s + 0}'; }

# One run of every test in folder $1 ($2: local, infinit or gluster);
# prints the seconds of each.
bench_dir() {
  local d=$1/bench t0 before
  rm -rf "$d"; mkdir -p "$d"
  sync; before=$(silos_mb)
  t0=$(now); dd if=/dev/zero of="$d/seq" bs=1M count="$SIZE_MB" conv=fsync status=none; elapsed "$t0"
  drop
  t0=$(now); dd if="$d/seq" of=/dev/null bs=1M status=none; elapsed "$t0"
  # Removal, until the space is free: infinit removes the chunks in the
  # background after rm returns, so its row waits for the silos to shrink
  # back to within 2% of the three copies (what little the removal leaves:
  # tombstones, emptied spare files). Waiting for less, as this row once
  # did (30% of one copy), left the rest of the removal to overlap the
  # creates row.
  t0=$(now); rm "$d/seq"; sync
  if [ "$2" = infinit ]; then
    for _ in $(seq 1200); do [ "$(silos_mb)" -le $((before + 3 * SIZE_MB / 50)) ] && break; sleep 0.05; done
  fi
  elapsed "$t0"
  mkdir "$d/many"
  t0=$(now); (cd "$d/many" && seq "$FILES" | xargs touch); elapsed "$t0"
  drop
  t0=$(now); ls -l "$d/many" >/dev/null; elapsed "$t0"
  mkdir "$d/tree"
  t0=$(now); tar -C "$d/tree" -xf "$tarball"; sync; elapsed "$t0"
}

targets=(local infinit); [ -z "${SKIP_GLUSTER:-}" ] && targets+=(gluster)
declare -A results
for run in $(seq "$RUNS"); do
  for t in "${targets[@]}"; do
    case $t in local) d=$local_dir ;; infinit) d=$mnt ;; gluster) d=$gmnt ;; esac
    mapfile -t r < <(bench_dir "$d" "$t")
    for k in "${!r[@]}"; do results[$t,$k]+="${r[$k]} "; done
    echo "run $run $t: ${r[*]}" >&2
  done
done
med() { tr ' ' '\n' <<<"${results[$1,$2]}" | grep -v '^$' | median; }

names=("sequential write ${SIZE_MB} MiB (dd, fsync)" "sequential read ${SIZE_MB} MiB (cold)" "rm of that file + sync, until its space is free" "create ${FILES} empty files" "ls -l of ${FILES} entries (cold)" "untar $(basename "$src") + sync")
# kind: rate (MiB/s or files/s: higher is better) or time (lower is better); target vs GlusterFS
kinds=(mb mb time files time time)
goal=("≥ 1.5× GlusterFS" "≥ 1.0× GlusterFS" "—" "≥ 10× GlusterFS" "—" "—")
need=(1.5 1.0 0 10 0 0)
echo
echo "| test | local dir | GlusterFS replica 3 | infinit (3 nodes, K=3) | infinit vs GlusterFS | target | met? |"
echo "|---|---|---|---|---|---|---|"
for k in 0 1 2 3 4 5; do
  l=$(med local $k); i=$(med infinit $k); g=$( [ -z "${SKIP_GLUSTER:-}" ] && med gluster $k || echo 0)
  case ${kinds[$k]} in
    mb) show() { echo "$(fmt "$1") s ($(fmt "$(echo "$SIZE_MB / $1" | bc -l)" 0) MiB/s)"; } ;;
    files) show() { echo "$(fmt "$1") s ($(fmt "$(echo "$FILES / $1" | bc -l)" 0)/s)"; } ;;
    time) show() { echo "$(fmt "$1" 3) s"; } ;;
  esac
  if [ "$g" != 0 ]; then
    ratio=$(echo "$g / $i" | bc -l)   # speed ratio: GlusterFS time over infinit time
    cell="$(fmt "$ratio")×"
    if [ "${need[$k]}" != 0 ]; then ok=$(met "$ratio >= ${need[$k]}"); else ok="—"; fi
    gshow=$(show "$g")
  else
    cell="—"; ok="—"; gshow="—"
  fi
  echo "| ${names[$k]} | $(show "$l") | $gshow | $(show "$i") | $cell | ${goal[$k]} | $ok |"
done
echo
for p in "${node_pids[@]}"; do
  echo "peak RSS of node pid $p: $(( $(hwm_kb "$p") / 1024 )) MiB"
done
echo
echo "compare-and-swap latency through consensus (3 nodes on loopback, in-process):"
cargo test --release --locked -q --lib cas_latency -- --ignored --nocapture 2>&1 | grep -E '^cas latency' || true
echo "runs: $RUNS (median); machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB RAM; load: $(cut -d' ' -f1-3 /proc/loadavg)"
