#!/usr/bin/env bash
# Stress benchmark: many files on a one-node volume.
#
#   bench/stress.sh                                        # 100,000 then 1,000,000 files
#   TERM_FILES=20000 RSS_FILES=100000 bench/stress.sh      # quicker
#
# 1. create TERM_FILES empty files (folders of PER_DIR) and SIGTERM the node
#    right after the last create: time SIGTERM → exit (target < 5 s), then
#    restart and check every file is there (nothing lost by the fast exit);
# 2. grow to RSS_FILES files, restart, stat every file on the fresh mount;
#    the peak RSS (VmHWM) of each node process, target ≤ 200 MiB.
# The same creates in a local folder give the ratio of the create rows.
# Prints a markdown table. Needs root (FUSE, drop_caches).
set -euo pipefail
cd "$(dirname "$0")/.."

TERM_FILES=${TERM_FILES:-100000}
RSS_FILES=${RSS_FILES:-1000000}
PER_DIR=${PER_DIR:-10000}
STEP_TIMEOUT=${STEP_TIMEOUT:-3600} # upper bound on one create or stat pass (s)
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --locked -q
BIN=${BIN:-$PWD/target/release/infinit}
. bench/lib.sh

# Create files $2..$3 (1-based, PER_DIR per folder d<N>) under $1.
create_range() {
  local root=$1 from=$2 to=$3 dir first last
  for ((dir = (from - 1) / PER_DIR; dir * PER_DIR < to; dir++)); do
    first=$((dir * PER_DIR + 1)); last=$(((dir + 1) * PER_DIR))
    ((first < from)) && first=$from
    ((last > to)) && last=$to
    mkdir -p "$root/d$dir"
    (cd "$root/d$dir" && seq -f 'f%.0f' "$first" "$last" | timeout "$STEP_TIMEOUT" xargs touch)
  done
}
# Files under $1, each stat'ed (ls -l of every folder).
count_files() { timeout "$STEP_TIMEOUT" ls -lR "$1" | grep -c '^-' || true; }
rate() { fmt "$(echo "$1 / $2" | bc -l)" 0; }

init_volume
start_volume

# 1. TERM_FILES creates, then SIGTERM at once.
t0=$(now); create_range "$local_dir" 1 "$TERM_FILES"; lt=$(elapsed "$t0")
t0=$(now); create_range "$mnt" 1 "$TERM_FILES"; vt=$(elapsed "$t0")
row "create $TERM_FILES empty files ($PER_DIR per folder)" "$(fmt "$lt") s ($(rate "$TERM_FILES" "$lt")/s)" \
  "$(fmt "$vt") s ($(rate "$TERM_FILES" "$vt")/s)" "$(fmt "$(echo "$vt / $lt" | bc -l)" 1)× local time" \
  "≥ 3,000 creates/s" "$(met "$TERM_FILES / $vt >= 3000")"
hwm1=$(hwm_kb "$pid")
stop_volume
term=$STOP_SECONDS clean=$STOP_CLEAN
start_volume
drop
t0=$(now); found=$(count_files "$mnt"); st=$(elapsed "$t0")
drop
t0=$(now); lfound=$(count_files "$local_dir"); lst=$(elapsed "$t0")
note=""
[ "$clean" = 1 ] || note=" (exit status not 0: see run.log)"
row "SIGTERM right after $TERM_FILES creates → exit" "—" "$(fmt "$term") s$note" "—" "< 5 s" "$(met "$term < 5")"
row "files found after that SIGTERM and a restart" "$lfound" "$found" "—" "all $TERM_FILES" "$(met "$found == $TERM_FILES")"
row "ls -lR of $TERM_FILES files, fresh mount" "$(fmt "$lst") s" "$(fmt "$st") s" "$(fmt "$(echo "$st / $lst" | bc -l)" 1)× local time" "—" "—"

# 2. Grow to RSS_FILES, then stat them all on a fresh mount.
t0=$(now); create_range "$local_dir" $((TERM_FILES + 1)) "$RSS_FILES"; lt=$(elapsed "$t0")
t0=$(now); create_range "$mnt" $((TERM_FILES + 1)) "$RSS_FILES"; vt=$(elapsed "$t0")
n=$((RSS_FILES - TERM_FILES))
row "create $n more empty files (to $RSS_FILES)" "$(fmt "$lt") s ($(rate "$n" "$lt")/s)" \
  "$(fmt "$vt") s ($(rate "$n" "$vt")/s)" "$(fmt "$(echo "$vt / $lt" | bc -l)" 1)× local time" \
  "≥ 3,000 creates/s" "$(met "$n / $vt >= 3000")"
hwm2=$(hwm_kb "$pid")
restart_volume
term2=$STOP_SECONDS
drop
t0=$(now); found=$(count_files "$mnt"); st=$(elapsed "$t0")
hwm3=$(hwm_kb "$pid")
drop
t0=$(now); lfound=$(count_files "$local_dir"); lst=$(elapsed "$t0")
row "ls -lR of $RSS_FILES files, fresh mount" "$(fmt "$lst") s ($lfound)" "$(fmt "$st") s ($found)" \
  "$(fmt "$(echo "$st / $lst" | bc -l)" 1)× local time" "all $RSS_FILES listed" "$(met "$found == $RSS_FILES")"
stop_volume
peak=$hwm1
for h in "$hwm2" "$hwm3"; do ((h > peak)) && peak=$h; done
row "peak RSS (VmHWM) over $RSS_FILES files: creating $TERM_FILES / creating to $RSS_FILES / stat all after restart" "—" \
  "$((hwm1 / 1024)) / $((hwm2 / 1024)) / $((hwm3 / 1024)) MiB" "—" "≤ 200 MiB" "$(met "$peak <= 204800")"
row "SIGTERM right after $n creates → exit" "—" "$(fmt "$term2") s" "—" "< 5 s" "$(met "$term2 < 5")"

print_table
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {print int($2/1048576)}' /proc/meminfo) GiB RAM; load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
