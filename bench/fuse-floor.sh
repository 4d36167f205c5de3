#!/usr/bin/env bash
# What FUSE itself costs on this machine: the untar and fio tests of
# bench/fs.sh on a local folder, on that folder through bindfs (a C
# pass-through FUSE file system: every request is answered by one system
# call on the folder, nothing stored, encrypted or signed), and on a
# one-node infinit volume, alternating, in the same run.
#
#   bench/fuse-floor.sh                       # 10 untars, 3 fio runs of 4 × 256 MiB
#   UNTARS=4 FIO_RUNS=1 FIO_SIZE_MB=64 bench/fuse-floor.sh   # quicker
#
# Prints a markdown table of medians with each column's ratio to local.
# bench/fs.sh's targets (untar within 4× of local, fio ≥ 25% of local)
# are ratios to local: where bindfs is already past them, they measure
# the machine's FUSE round trips more than the file system behind them.
# Needs root (FUSE); installs bindfs and fio when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

UNTARS=${UNTARS:-10}
FIO_RUNS=${FIO_RUNS:-3}
FIO_SIZE_MB=${FIO_SIZE_MB:-256}
FIO_JOBS=${FIO_JOBS:-4}
command -v fio >/dev/null || apt-get install -y fio >/dev/null
command -v bindfs >/dev/null || apt-get install -y bindfs >/dev/null
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --locked -q
BIN=${BIN:-$PWD/target/release/infinit}
. bench/lib.sh

passthrough=$work/bindfs
backing=$work/bindfs-backing
unmount_bindfs() { mountpoint -q "$passthrough" 2>/dev/null && { fusermount3 -u "$passthrough" 2>/dev/null || umount -l "$passthrough"; }; }
trap 'unmount_bindfs; cleanup' EXIT

init_volume
start_volume
mkdir -p "$passthrough" "$backing"
bindfs -o default_permissions "$backing" "$passthrough"

tarball=$work/tree.tar
make_tree_tarball "$tarball"
entries=$(tar -tf "$tarball" | wc -l)

declare -A dirs=([local]=$local_dir [bindfs]=$passthrough [infinit]=$mnt)
kinds=(local bindfs infinit)
declare -A untar fio

for i in $(seq "$UNTARS"); do
  for k in "${kinds[@]}"; do
    d=${dirs[$k]}/untar$i
    # The volume writes back a moment after its last request: let that
    # land before the next timed untar, whose `sync` would otherwise pay for it.
    mkdir "$d"; sleep 0.5; sync
    t0=$(now); tar -C "$d" -xf "$tarball"; sync; untar[$k]+="$(elapsed "$t0") "
  done
done
for i in $(seq "$FIO_RUNS"); do
  for k in "${kinds[@]}"; do
    d=${dirs[$k]}/fio
    mkdir -p "$d"
    fio --name=r --directory="$d" --rw=randwrite --bs=4k --size="${FIO_SIZE_MB}M" --numjobs="$FIO_JOBS" \
      --fsync=32 --direct=0 --group_reporting --output-format=json --output="$work/fio.json" >/dev/null
    fio[$k]+="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["jobs"][0]["write"]["iops"])' "$work/fio.json") "
    rm -rf "$d"
  done
done

med() { tr ' ' '\n' <<<"$1" | grep -v '^$' | median; }
lu=$(med "${untar[local]}")
echo
echo "| test | local dir | bindfs (C pass-through FUSE) | infinit volume |"
echo "|---|---|---|---|"
line="| untar $(basename "$src") ($entries entries) + sync, median of $UNTARS |"
for k in "${kinds[@]}"; do
  v=$(med "${untar[$k]}"); line+=" $(fmt "$v" 3) s ($(fmt "$(echo "$v / $lu" | bc -l)" 1)× local) |"
done
echo "$line"
[ "$FIO_RUNS" -gt 0 ] && lf=$(med "${fio[local]}") && line="| fio randwrite 4 KiB, $FIO_JOBS jobs × $FIO_SIZE_MB MiB, fsync every 32, median of $FIO_RUNS |"
if [ "$FIO_RUNS" -gt 0 ]; then
  for k in "${kinds[@]}"; do
    v=$(med "${fio[$k]}"); line+=" $(fmt "$v" 0) IOPS ($(fmt "$(echo "100 * $v / $lf" | bc -l)" 0)% of local) |"
  done
  echo "$line"
fi
echo
echo "untar runs (s): local ${untar[local]}; bindfs ${untar[bindfs]}; infinit ${untar[infinit]}"
[ "$FIO_RUNS" -gt 0 ] && echo "fio runs (IOPS): local ${fio[local]}; bindfs ${fio[bindfs]}; infinit ${fio[infinit]}"
echo "machine: $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
