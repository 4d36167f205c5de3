#!/usr/bin/env bash
# File system benchmark: a one-node infinit volume against a plain local
# directory on the same disk, measured in the same run.
#
#   bench/fs.sh                 # 1 GiB sequential, 10,000 small files, fio 4 × 256 MiB, 3 runs, median
#   SIZE_MB=256 FILES=2000 FIO_SIZE_MB=64 RUNS=1 bench/fs.sh   # quicker
#
# Prints a markdown table (test, local, infinit, ratio, target, met?) and
# the peak RSS of the infinit processes. Needs root (FUSE, drop_caches).
# The 100,000- and 1,000,000-file tests are in bench/stress.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB=${SIZE_MB:-1024}          # sequential file
FILES=${FILES:-10000}             # empty files created, then listed
RUNS=${RUNS:-3}
FIO_SIZE_MB=${FIO_SIZE_MB:-256}   # per fio job
FIO_JOBS=${FIO_JOBS:-4}
FIO_RUNTIME=${FIO_RUNTIME:-300}   # upper bound on one fio run (s)
command -v fio >/dev/null || apt-get install -y fio >/dev/null
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --locked -q
BIN=${BIN:-$PWD/target/release/infinit}
. bench/lib.sh

init_volume
start_volume

tarball=$work/tree.tar
make_tree_tarball "$tarball"
tree_files=$(tar -tf "$tarball" | wc -l)

# fio 4 KiB random writes in $1; sets FIO_IOPS and FIO_BYTES (written).
run_fio() {
  local d=$1/fio
  mkdir -p "$d"
  fio --name=r --directory="$d" --rw=randwrite --bs=4k --size="${FIO_SIZE_MB}M" --numjobs="$FIO_JOBS" \
    --fsync=32 --direct=0 --group_reporting --runtime="$FIO_RUNTIME" \
    --output-format=json --output="$work/fio.json" >/dev/null 2>"$work/fio.err" || { cat "$work/fio.err" >&2; return 1; }
  read -r FIO_IOPS FIO_BYTES < <(python3 -c 'import json,sys
w = json.load(open(sys.argv[1]))["jobs"][0]["write"]
print(w["iops"], w["io_bytes"])' "$work/fio.json")
}

# KiB used under $1. A file the node renames or removes while du walks the
# folder makes du complain and fail, though its total stands: not an error here.
du_kb() { { du -sk "$1" 2>/dev/null || true; } | cut -f1; }
# Sample `du_kb $1` every second into $2 until killed.
du_sampler() { while :; do du_kb "$1" >>"$2"; sleep 1; done; }

# One run of every test in $1 ("local" or "volume"); sets OUT (seconds per
# test, then fio IOPS, then space in KiB before / at peak / after fio).
bench_dir() {
  local kind=$1 d t0 base peak after
  if [ "$kind" = local ]; then d=$local_dir; else d=$mnt; fi
  OUT=()
  rm -rf "${d:?}"/* 2>/dev/null || true
  t0=$(now); dd if=/dev/zero of="$d/seq" bs=1M count="$SIZE_MB" conv=fsync status=none; OUT+=("$(elapsed "$t0")")
  drop
  t0=$(now); dd if="$d/seq" of=/dev/null bs=1M status=none; OUT+=("$(elapsed "$t0")")
  rm -f "$d/seq"
  mkdir "$d/small"
  t0=$(now); (cd "$d/small" && seq "$FILES" | xargs touch); OUT+=("$(elapsed "$t0")")
  drop
  t0=$(now); ls -l "$d/small" >/dev/null; OUT+=("$(elapsed "$t0")")
  # The same listing on a fresh mount: nothing of the directory in the node's memory.
  if [ "$kind" = volume ]; then restart_volume; fi
  drop
  t0=$(now); ls -l "$d/small" >/dev/null; OUT+=("$(elapsed "$t0")")
  [ "$(ls "$d/small" | wc -l)" = "$FILES" ] || { echo "$kind: $FILES files created, $(ls "$d/small" | wc -l) listed" >&2; exit 1; }
  mkdir "$d/tree"
  t0=$(now); tar -C "$d/tree" -xf "$tarball"; sync; OUT+=("$(elapsed "$t0")")
  rm -rf "$d/small" "$d/tree"
  # fio, and the space its files take where the data lands (silo or local folder).
  sync
  local space=$local_dir samples=$work/du.$kind
  [ "$kind" = volume ] && space=$silo_dir
  base=$(du_kb "$space")
  : >"$samples"
  du_sampler "$space" "$samples" &
  sampler=$!
  run_fio "$d"
  sync
  sleep 2
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  sampler=
  after=$(du_kb "$space")
  peak=$( (cat "$samples"; echo "$after") | sort -n | tail -1)
  OUT+=("$FIO_IOPS" "$base" "$peak" "$after" "$FIO_BYTES")
  rm -rf "$d/fio"
}

declare -a L V
for r in $(seq "$RUNS"); do
  bench_dir local; L[r]="${OUT[*]}"
  bench_dir volume; V[r]="${OUT[*]}"
  echo "run $r: local ${L[r]}; volume ${V[r]}" >&2
done
stop_volume
last_stop=$STOP_SECONDS

col() { # $1 = L or V, $2 = field (1-based): the median over runs
  local -n runs=$1
  for r in $(seq "$RUNS"); do echo "${runs[r]}" | cut -d' ' -f"$2"; done | median
}

for i in 1 2 3 4 5 6; do l[i]=$(col L "$i"); v[i]=$(col V "$i"); done
mbps() { fmt "$(echo "$SIZE_MB / $1" | bc -l)" 0; }
for i in 1 2; do
  pct=$(echo "100 * ${l[i]} / ${v[i]}" | bc -l)
  name=("" "sequential write ${SIZE_MB} MiB (dd, conv=fsync)" "sequential read ${SIZE_MB} MiB (dd, cold)")
  row "${name[i]}" "$(fmt "${l[i]}") s ($(mbps "${l[i]}") MiB/s)" "$(fmt "${v[i]}") s ($(mbps "${v[i]}") MiB/s)" \
    "$(fmt "$pct" 0)% of local" "≥ 50% of local" "$(met "$pct >= 50")"
done
rate=$(echo "$FILES / ${v[3]}" | bc -l)
row "create $FILES empty files (xargs touch)" "$(fmt "${l[3]}") s ($(fmt "$(echo "$FILES / ${l[3]}" | bc -l)" 0)/s)" \
  "$(fmt "${v[3]}") s ($(fmt "$rate" 0)/s)" "$(fmt "$(echo "${v[3]} / ${l[3]}" | bc -l)" 1)× local time" "≥ 3,000 creates/s" "$(met "$rate >= 3000")"
row "ls -l of $FILES entries (caches dropped, same mount)" "$(fmt "${l[4]}" 3) s" "$(fmt "${v[4]}" 3) s" \
  "$(fmt "$(echo "${v[4]} / ${l[4]}" | bc -l)" 1)× local time" "— (see next row)" "—"
x=$(echo "${v[5]} / ${l[5]}" | bc -l)
row "ls -l of $FILES entries, fresh mount (volume restarted, caches dropped)" "$(fmt "${l[5]}" 3) s" "$(fmt "${v[5]}" 3) s" \
  "$(fmt "$x" 1)× local time" "≤ 3× local" "$(met "$x <= 3")"
x=$(echo "${v[6]} / ${l[6]}" | bc -l)
row "untar $(basename "$src") ($tree_files entries) + sync" "$(fmt "${l[6]}" 3) s" "$(fmt "${v[6]}" 3) s" \
  "$(fmt "$x" 1)× local time" "≤ 4× local" "$(met "$x <= 4")"

li=$(col L 7); vi=$(col V 7)
pct=$(echo "100 * $vi / $li" | bc -l)
row "fio randwrite 4 KiB, $FIO_JOBS jobs × $FIO_SIZE_MB MiB, fsync every 32" "$(fmt "$li" 0) IOPS" "$(fmt "$vi" 0) IOPS" \
  "$(fmt "$pct" 0)% of local" "≥ 25% of local IOPS" "$(met "$pct >= 25")"
# Space: peak (during or right after fio) minus what the folder held before, against the bytes fio wrote.
amp() { # $1 = L or V
  local -n runs=$1
  for r in $(seq "$RUNS"); do
    set -- ${runs[r]}
    echo "(${9} - ${8}) * 1024 / ${11}" | bc -l
  done | median
}
la=$(amp L); va=$(amp V)
vpeak=$(col V 9); vbase=$(col V 8); vafter=$(col V 10); vbytes=$(col V 11)
row "space used by the fio data (peak du − du before) / bytes written" "$(fmt "$la")×" \
  "$(fmt "$va")× (peak $(( (vpeak - vbase) / 1024 )) MiB, after $(( (vafter - vbase) / 1024 )) MiB, for $((vbytes / 1048576)) MiB)" \
  "$(fmt "$(echo "$va / $la" | bc -l)" 1)× local" "recorded (no target)" "—"

print_table
want=$((FIO_SIZE_MB * FIO_JOBS * 1048576))
[ "$vbytes" -ge "$want" ] || echo "fio on the volume stopped at its ${FIO_RUNTIME}s bound: $((vbytes / 1048576)) of $((want / 1048576)) MiB written (raise FIO_RUNTIME for the whole job)"
echo "infinit peak RSS (highest VmHWM over the run's processes): $((peak_rss_kb / 1024)) MiB; last SIGTERM → exit: $(fmt "$last_stop") s"
echo "runs: $RUNS (median); machine: $(nproc) cores, $(awk '/MemTotal/ {print int($2/1048576)}' /proc/meminfo) GiB RAM; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
