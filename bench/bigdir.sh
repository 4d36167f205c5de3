#!/usr/bin/env bash
# One large folder on a one-node volume, against a local folder: create
# ENTRIES empty files in it, then CHANGES times create one more and fsync
# it and the folder (the folder's change is stored at once). Prints the
# time per change, the bytes the node wrote per change (wchar of
# /proc/PID/io: what it handed to the silo's files) and an `ls -l` of the
# folder on a fresh mount.
#
#   bench/bigdir.sh                                   # 100,000 entries, 200 changes
#   ENTRIES=20000 CHANGES=50 bench/bigdir.sh          # quicker
#   BIN=/path/to/older/infinit SKIP_BUILD=1 bench/bigdir.sh   # another build, for comparison
#
# Needs root (FUSE, drop_caches).
set -euo pipefail
cd "$(dirname "$0")/.."

ENTRIES=${ENTRIES:-100000}
CHANGES=${CHANGES:-200}
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --locked -q
BIN=${BIN:-$PWD/target/release/infinit}
. bench/lib.sh

init_volume
start_volume

# Fill folder $1/big; prints seconds.
fill() {
  local t0
  mkdir -p "$1/big"
  t0=$(now)
  (cd "$1/big" && seq -f 'f%.0f' 1 "$ENTRIES" | xargs touch)
  sync
  elapsed "$t0"
}

# CHANGES creates in $1/big, each fsynced with the folder; prints seconds.
changes() {
  python3 - "$1/big" "$CHANGES" <<'PY'
import os, sys, time
folder, n = sys.argv[1], int(sys.argv[2])
dfd = os.open(folder, os.O_RDONLY)
t0 = time.monotonic()
for i in range(n):
    fd = os.open(os.path.join(folder, f"new{i}"), os.O_CREAT | os.O_WRONLY, 0o644)
    os.fsync(fd)
    os.close(fd)
    os.fsync(dfd)
print(time.monotonic() - t0)
PY
}

wchar() { awk '/^wchar/ {print $2}' "/proc/$pid/io"; }
lsl() { local t0; t0=$(now); ls -l "$1/big" | wc -l >/dev/null; elapsed "$t0"; }

local_fill=$(fill "$local_dir")
volume_fill=$(fill "$mnt")
local_changes=$(changes "$local_dir")
before=$(wchar)
volume_changes=$(changes "$mnt")
written=$(($(wchar) - before))
drop
local_ls=$(lsl "$local_dir")
restart_volume
drop
volume_ls=$(lsl "$mnt")
stop_volume

per() { echo "$1 * 1000 / $CHANGES" | bc -l; }
echo
echo "$("$BIN" --version 2>/dev/null | head -1), $ENTRIES entries, $CHANGES changes"
echo
echo "| test | local dir | infinit volume | ratio |"
echo "|---|---|---|---|"
echo "| create $ENTRIES empty files in one folder + sync | $(fmt "$local_fill") s | $(fmt "$volume_fill") s ($(echo "$ENTRIES / $volume_fill" | bc)/s) | $(fmt "$(echo "$volume_fill / $local_fill" | bc -l)" 1)× |"
echo "| one more file + fsync of file and folder | $(fmt "$(per "$local_changes")") ms | $(fmt "$(per "$volume_changes")") ms | $(fmt "$(echo "$volume_changes / $local_changes" | bc -l)" 1)× |"
echo "| bytes the node writes per such change | — | $(echo "$written / $CHANGES / 1024" | bc) KiB | — |"
echo "| ls -l of the folder, fresh mount, caches dropped | $(fmt "$local_ls" 3) s | $(fmt "$volume_ls" 3) s | $(fmt "$(echo "$volume_ls / $local_ls" | bc -l)" 1)× |"
echo
echo "peak RSS $((peak_rss_kb / 1024)) MiB"
