#!/usr/bin/env bash
# File system benchmark: a one-node infinit volume against a plain local
# directory on the same disk, measured in the same run.
#
#   bench/fs.sh                 # 1 GiB sequential, 10,000 small files, 3 runs, median
#   SIZE_MB=256 FILES=2000 RUNS=1 bench/fs.sh   # quicker
#
# Prints a markdown table (time per test, ratio volume/local) and the peak
# RSS of the infinit process. Needs root (FUSE, drop_caches).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB=${SIZE_MB:-1024}
FILES=${FILES:-10000}
RUNS=${RUNS:-3}
cargo build --release --locked -q
bin=$PWD/target/release/infinit

work=$(mktemp -d /var/tmp/infinit-bench.XXXXXX)
home=$work/home
mnt=$work/mnt
local_dir=$work/local
pid=
cleanup() {
  if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  mountpoint -q "$mnt" 2>/dev/null && { fusermount3 -u -z "$mnt" 2>/dev/null || umount -l "$mnt"; }
  rm -rf "$work"
}
trap cleanup EXIT

export INFINIT_HOME=$home INFINIT_USER=bench
"$bin" cluster init --mountpoint "$mnt" --capacity 100GB --no-mount >/dev/null
"$bin" volume run --name cluster --mountpoint "$mnt" >"$work/run.log" 2>&1 &
pid=$!
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.1; done
mountpoint -q "$mnt" || { cat "$work/run.log"; echo "volume did not mount" >&2; exit 1; }

# A real source tree to untar: tokio's source from the cargo registry (the
# build fetched it), else the crate source with the most files.
tarball=$work/tree.tar
src=$(ls -d ~/.cargo/registry/src/*/tokio-1.*/ 2>/dev/null | tail -1)
[ -n "$src" ] || src=$(ls -d ~/.cargo/registry/src/*/*/ | while read -r d; do echo "$(find "$d" -type f | wc -l) $d"; done | sort -n | tail -1 | cut -d' ' -f2)
tar -C "$(dirname "$src")" -cf "$tarball" "$(basename "$src")"
tree_files=$(tar -tf "$tarball" | wc -l)

now() { date +%s.%N; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }

bench_dir() { # $1 = directory under test; prints seconds per test, space-separated
  local d=$1 t0 t1 out=()
  rm -rf "${d:?}"/* 2>/dev/null || true
  t0=$(now); dd if=/dev/zero of="$d/seq" bs=1M count="$SIZE_MB" conv=fsync status=none; t1=$(now)
  out+=("$(echo "$t1 - $t0" | bc)")
  drop
  t0=$(now); dd if="$d/seq" of=/dev/null bs=1M status=none; t1=$(now)
  out+=("$(echo "$t1 - $t0" | bc)")
  rm -f "$d/seq"
  mkdir "$d/small"
  t0=$(now); (cd "$d/small" && seq "$FILES" | xargs touch); t1=$(now)
  out+=("$(echo "$t1 - $t0" | bc)")
  drop
  t0=$(now); ls -l "$d/small" >/dev/null; t1=$(now)
  out+=("$(echo "$t1 - $t0" | bc)")
  mkdir "$d/tree"
  t0=$(now); tar -C "$d/tree" -xf "$tarball"; sync; t1=$(now)
  out+=("$(echo "$t1 - $t0" | bc)")
  rm -rf "$d/small" "$d/tree"
  echo "${out[*]}"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

mkdir -p "$local_dir"
declare -a L V
for r in $(seq "$RUNS"); do
  L[r]=$(bench_dir "$local_dir")
  V[r]=$(bench_dir "$mnt")
done
rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)

names=("sequential write ${SIZE_MB} MiB (fsync)" "sequential read ${SIZE_MB} MiB (cold)" "create ${FILES} empty files" "ls -l of ${FILES} entries" "untar $(basename "$src") (${tree_files} entries)")
echo
echo "| test | local dir (s) | infinit volume (s) | volume / local | infinit rate |"
echo "|---|---|---|---|---|"
for i in 0 1 2 3 4; do
  l=$(for r in $(seq "$RUNS"); do echo "${L[r]}" | cut -d' ' -f$((i+1)); done | median)
  v=$(for r in $(seq "$RUNS"); do echo "${V[r]}" | cut -d' ' -f$((i+1)); done | median)
  ratio=$(echo "scale=2; $v / $l" | bc)
  case $i in
    0|1) rate="$(echo "scale=1; $SIZE_MB / $v" | bc) MiB/s";;
    2) rate="$(echo "scale=0; $FILES / $v" | bc) files/s";;
    3) rate="$(echo "scale=0; $FILES / $v" | bc) entries/s";;
    4) rate="$(echo "scale=0; $tree_files / $v" | bc) entries/s";;
  esac
  echo "| ${names[i]} | $l | $v | $ratio | $rate |"
done
echo
echo "infinit peak RSS: $((rss_kb / 1024)) MiB; runs: $RUNS (median); machine: $(nproc) cores"
