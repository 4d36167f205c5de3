# Shared helpers of bench/fs.sh and bench/stress.sh: a throw-away one-node
# volume that can be stopped (timed) and started again, a cleanup trap that
# stops it by pid and unmounts, and the markdown table of results.
# Sourced, not run. Needs root (FUSE, drop_caches).

: "${BIN:?set BIN to the infinit binary before sourcing bench/lib.sh}"

work=$(mktemp -d /var/tmp/infinit-bench.XXXXXX)
home=$work/home
mnt=$work/mnt
local_dir=$work/local
silo_dir=$home/.local/state/infinit/filesystem/silos/cluster
pid=
peak_rss_kb=0 # the highest VmHWM of every infinit process this run started
STOP_TIMEOUT=${STOP_TIMEOUT:-120}

now() { date +%s.%N; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
elapsed() { echo "$(now) - $1" | bc; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# True once process $1 has exited (gone, or a zombie waiting for `wait`).
exited() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
  [ -z "$state" ] || [ "$state" = Z ]
}

unmount_dead() {
  if mountpoint -q "$mnt" 2>/dev/null; then
    fusermount3 -u -z "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
  fi
}

start_volume() {
  mkdir -p "$mnt"
  setsid "$BIN" volume run --name cluster --mountpoint "$mnt" </dev/null >>"$work/run.log" 2>&1 &
  pid=$!
  local _
  for _ in $(seq 300); do mountpoint -q "$mnt" && return 0; exited "$pid" && break; sleep 0.1; done
  cat "$work/run.log" >&2
  echo "volume did not mount" >&2
  exit 1
}

# SIGTERM the volume and wait for it to exit (at most STOP_TIMEOUT s, then
# SIGKILL). Sets STOP_SECONDS (SIGTERM → exit) and STOP_CLEAN (1 if it
# exited by itself with status 0).
stop_volume() {
  STOP_SECONDS=
  STOP_CLEAN=0
  [ -n "$pid" ] || return 0
  local hwm t0 i rc=0
  hwm=$(hwm_kb "$pid")
  [ "${hwm:-0}" -gt "$peak_rss_kb" ] && peak_rss_kb=$hwm
  t0=$(now)
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 100; i++)); do exited "$pid" && break; sleep 0.01; done
  STOP_SECONDS=$(elapsed "$t0")
  if ! exited "$pid"; then
    echo "infinit (pid $pid) still running ${STOP_TIMEOUT}s after SIGTERM: killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || rc=$?
  [ "$rc" = 0 ] && STOP_CLEAN=1
  pid=
  unmount_dead
}

restart_volume() { stop_volume; start_volume; }

cleanup() {
  [ -n "${sampler:-}" ] && kill "$sampler" 2>/dev/null
  if [ -n "$pid" ]; then
    STOP_TIMEOUT=20 stop_volume || true
  fi
  unmount_dead
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

init_volume() {
  export INFINIT_HOME=$home INFINIT_USER=bench
  "$BIN" cluster init --mountpoint "$mnt" --capacity 100GB --no-mount >/dev/null
  mkdir -p "$local_dir"
}

# Write a real source tree to untar into tar file $1 and set `src` to it:
# tokio's source from the cargo registry (the build fetched it), else the
# crate source with the most files.
make_tree_tarball() {
  src=$(ls -d ~/.cargo/registry/src/*/tokio-1.*/ 2>/dev/null | tail -1)
  [ -n "$src" ] || src=$(ls -d ~/.cargo/registry/src/*/*/ | while read -r d; do echo "$(find "$d" -type f | wc -l) $d"; done | sort -n | tail -1 | cut -d' ' -f2)
  tar -C "$(dirname "$src")" -cf "$1" "$(basename "$src")"
}

# Rows of the result table: test | local | infinit | ratio | target | met?
rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }
print_table() {
  echo
  echo "| test | local dir | infinit volume | ratio | target | met? |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
}
# yes / **no** for a bc condition
met() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo yes; else echo "**no**"; fi; }
fmt() { printf "%.${2:-2}f" "$1"; }
