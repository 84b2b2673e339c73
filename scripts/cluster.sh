#!/usr/bin/env bash
# scripts/cluster.sh - a local Redis Cluster of atomicdoc servers, for tests and demos.
#
#   scripts/cluster.sh start  [DIR]   3 primaries + 3 replicas, prints their ports
#   scripts/cluster.sh status [DIR]   one line per node; exit 0 only when all is well
#   scripts/cluster.sh stop   [DIR]   stops the nodes by PID, removes DIR
#
# DIR defaults to build/cluster of this checkout (a relative DIR is taken from the
# current directory). Each node is Debian's redis-server on a free 127.0.0.1 port P
# (its cluster bus on P+10000), with the module loaded, `cluster-enabled yes`,
# `cluster-node-timeout 2000`, no persistence (appendonly no, save ""; replicas still
# sync through an RDB file, with no delay) and DEBUG enabled, and lives in
# DIR/node-N/: nodes.conf, redis.log, stderr.log (where sanitizer reports land), pid,
# port. The cluster is made with `redis-cli --cluster create ... --cluster-replicas 1`:
# the first three ports printed start as primaries, the last three as replicas.
#
# `start` returns once every node says cluster_state:ok, knows all 6 nodes and sees 3
# primaries and 3 replicas (gossip has settled), every replica's link to its primary
# is up and `redis-cli --cluster check` agrees; it gives up after CLUSTER_TIMEOUT.
# Its stdout is the six ports on one line (progress goes to stderr), so
#     ports=$(scripts/cluster.sh start /tmp/c)
# works. Run twice on a healthy cluster it prints the same ports and starts nothing;
# on a broken one (a node died) it stops what is left and starts afresh. A start and
# a stop of one DIR never overlap (both hold a lock on DIR): a stop issued while a
# start is under way waits for it, then stops what it started.
#
# `stop` sends SIGTERM to each PID of the pid files (only when that PID is still a
# redis-server working in its node directory, so a recycled PID is never signalled),
# waits up to 10 s, then SIGKILLs. It then looks for crash reports (redis.log) and
# sanitizer reports (stderr.log): when it finds one it prints it, keeps DIR and exits
# 1. Otherwise it removes DIR, unless KEEP_DIRS=1. Stopping a stopped cluster is a
# no-op. DIR is only ever removed when it holds the marker file this script made.
#
# Environment:
#   ATOMICDOC_MODULE   absolute path of atomicdoc.so (default: build/atomicdoc.so of
#                      this checkout)
#   ATOMICDOC_PRELOAD  a library to LD_PRELOAD into redis-server (libasan.so for an
#                      ASan-built module); ASAN_OPTIONS=detect_leaks=0 comes with it
#   CLUSTER_TIMEOUT    seconds to wait for a healthy cluster (default 60)
#   KEEP_DIRS=1        `stop` keeps DIR
#
# Exit status: 0 success; 1 failure (message on stderr); 2 usage; `status` exits 3
# when no node is running.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NODES=6
MARKER=.atomicdoc-cluster
# Ports are picked below the kernel's ephemeral range (32768 and up) with their bus
# port (P+10000) too, so neither collides with the outgoing connections of clients
# nor with servers that took an ephemeral port (the test harness does).
PORT_MIN=10000
PORT_SPAN=12700
STOP_WAIT=10

die() { echo "cluster.sh: $*" >&2; exit 1; }
say() { echo "cluster.sh: $*" >&2; }

usage() {
  echo "usage: scripts/cluster.sh start|stop|status [DIR]" >&2
  exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
action=$1
DIR=${2:-$ROOT/build/cluster}
# Absolute and without symlinks: a node's /proc/PID/cwd is compared with it.
DIR=$(realpath -m -- "$DIR") || die "bad directory $DIR"
[ "$DIR" != / ] || die "refusing to use / as the cluster directory"

MODULE=${ATOMICDOC_MODULE:-$ROOT/build/atomicdoc.so}
TIMEOUT=${CLUSTER_TIMEOUT:-60}

command -v redis-server >/dev/null || die "redis-server not found (scripts/deps.sh installs it)"
command -v redis-cli >/dev/null || die "redis-cli not found (scripts/deps.sh installs it)"

# ---- small helpers ------------------------------------------------------------------

now_ms() { date +%s%3N; }

# cli PORT args... : one redis-cli call with a short timeout, never hanging the script.
cli() {
  local port=$1; shift
  timeout 5 redis-cli -h 127.0.0.1 -p "$port" "$@" 2>/dev/null
}

# Field of `CLUSTER INFO` / `INFO` output given on stdin.
field() { tr -d '\r' | sed -n "s/^$1://p"; }

# True when PID runs (a zombie does not count: PID 1 here may never reap it).
alive() {
  local pid=$1 state
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# True when PID is a live redis-server whose working directory is NODEDIR: only then
# is it ours to signal.
ours() {
  local pid=$1 nodedir=$2
  alive "$pid" || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = redis-server ] || return 1
  [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$nodedir" ]
}

# True when something listens on TCP port P of any address.
listening() {
  [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

node_dirs() {
  local i
  for i in $(seq 1 $NODES); do echo "$DIR/node-$i"; done
}

# The ports of the nodes, in node order, from their port files.
ports() {
  local d out=()
  for d in $(node_dirs); do
    [ -r "$d/port" ] && out+=("$(cat "$d/port")")
  done
  echo "${out[*]}"
}

# ---- stop -----------------------------------------------------------------------------

# A crash or sanitizer report of any node, printed; returns 1 when there was one.
check_reports() {
  local d bad=0
  for d in $(node_dirs); do
    if [ -s "$d/stderr.log" ] && grep -qE 'Sanitizer|runtime error:' "$d/stderr.log"; then
      say "sanitizer report in $d/stderr.log:"
      head -n 60 "$d/stderr.log" >&2
      bad=1
    fi
    if [ -s "$d/redis.log" ] && grep -qE 'REDIS BUG REPORT|crashed by signal' "$d/redis.log"; then
      say "crash report in $d/redis.log:"
      grep -A 40 -E 'REDIS BUG REPORT|crashed by signal' "$d/redis.log" | head -n 60 >&2
      bad=1
    fi
  done
  return $bad
}

# Stops every node of DIR by PID. Leaves the files.
kill_nodes() {
  local d pid pids=() deadline
  for d in $(node_dirs); do
    pid=$(cat "$d/pid" 2>/dev/null) || continue
    if ours "$pid" "$d"; then
      kill -TERM "$pid" 2>/dev/null && pids+=("$pid:$d")
    fi
  done
  deadline=$(( $(now_ms) + STOP_WAIT * 1000 ))
  while :; do
    local left=()
    for pd in "${pids[@]}"; do
      alive "${pd%%:*}" && left+=("$pd")
    done
    pids=("${left[@]}")
    [ ${#pids[@]} = 0 ] && break
    if [ "$(now_ms)" -ge "$deadline" ]; then
      for pd in "${pids[@]}"; do
        say "node in ${pd#*:} (pid ${pd%%:*}) ignored SIGTERM for ${STOP_WAIT}s: SIGKILL"
        ours "${pd%%:*}" "${pd#*:}" && kill -KILL "${pd%%:*}" 2>/dev/null
      done
      deadline=$(( $(now_ms) + STOP_WAIT * 1000 ))
    fi
    sleep 0.05
  done
}

do_stop() {
  [ -d "$DIR" ] || return 0
  [ -e "$DIR/$MARKER" ] || die "$DIR was not made by cluster.sh (no $MARKER): not touching it"
  exec 9<"$DIR" && flock 9
  kill_nodes
  if ! check_reports; then
    say "kept $DIR"
    return 1
  fi
  if [ "${KEEP_DIRS:-}" = 1 ]; then
    say "stopped; kept $DIR"
  else
    rm -rf "$DIR"
  fi
  return 0
}

# ---- status ---------------------------------------------------------------------------

# Prints one line per node; returns 0 when every node runs and has cluster_state ok,
# 3 when none runs, 1 otherwise.
do_status() {
  [ -e "$DIR/$MARKER" ] || { say "no cluster in $DIR"; return 3; }
  local d pid port state role running=0 healthy=0
  for d in $(node_dirs); do
    pid=$(cat "$d/pid" 2>/dev/null); port=$(cat "$d/port" 2>/dev/null)
    if [ -n "$pid" ] && ours "$pid" "$d"; then
      running=$((running + 1))
      state=$(cli "$port" CLUSTER INFO | field cluster_state)
      role=$(cli "$port" INFO replication | field role)
      [ "$state" = ok ] && healthy=$((healthy + 1))
      printf '127.0.0.1:%s pid %s %s cluster_state:%s\n' "$port" "$pid" "${role:-?}" "${state:-?}"
    else
      printf '127.0.0.1:%s pid %s not running\n' "${port:-?}" "${pid:-?}"
    fi
  done
  [ $running = 0 ] && return 3
  [ $healthy = $NODES ] && return 0
  return 1
}

# ---- start ----------------------------------------------------------------------------

# A random port P with P and P+10000 free; never one in TAKEN.
TAKEN=" "
pick_port() {
  local p _
  for _ in $(seq 200); do
    p=$(( PORT_MIN + (RANDOM * 32768 + RANDOM) % PORT_SPAN ))
    case "$TAKEN" in *" $p "*|*" $((p + 10000)) "*|*" $((p - 10000)) "*) continue ;; esac
    listening "$p" || listening $((p + 10000)) || { echo "$p"; return 0; }
  done
  return 1
}

# Launches node directory D on port P in the background; writes D/pid and D/port.
# Replicas sync through an RDB file with no delay: a diskless sync would wait 5 s
# (repl-diskless-sync-delay) before a replica gets its data.
# The server gets its own session (a Ctrl-C at the terminal is not for it), no open
# descriptor of ours (fd 9 holds the lock), and the sanitizer runtime when asked for.
launch() {
  local d=$1 p=$2 envs=()
  if [ -n "${ATOMICDOC_PRELOAD:-}" ]; then
    envs=(LD_PRELOAD="$ATOMICDOC_PRELOAD" ASAN_OPTIONS=detect_leaks=0)
  fi
  rm -f "$d/nodes.conf"
  env "${envs[@]}" setsid redis-server \
      --port "$p" --bind 127.0.0.1 --dir "$d" --daemonize no \
      --logfile "$d/redis.log" \
      --cluster-enabled yes --cluster-config-file "$d/nodes.conf" \
      --cluster-node-timeout 2000 \
      --appendonly no --save "" \
      --enable-debug-command yes \
      --repl-diskless-sync no --repl-diskless-sync-delay 0 \
      --loadmodule "$MODULE" \
      </dev/null >>"$d/stderr.log" 2>&1 9<&- &
  echo $! >"$d/pid"
  echo "$p" >"$d/port"
}

# Waits until node D answers PING with its own pid. Returns 0 when up, 1 when its
# port was taken (pick another), 2 when it failed otherwise or timed out.
wait_up() {
  local d=$1 pid port deadline
  pid=$(cat "$d/pid"); port=$(cat "$d/port")
  deadline=$(( $(now_ms) + TIMEOUT * 1000 ))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    if ! alive "$pid"; then
      grep -q 'Address already in use' "$d/redis.log" "$d/stderr.log" 2>/dev/null && return 1
      return 2
    fi
    if [ "$(cli "$port" PING)" = PONG ] &&
       [ "$(cli "$port" INFO server | field process_id)" = "$pid" ]; then
      return 0
    fi
    sleep 0.05
  done
  return 2
}

log_tail() {
  local d=$1
  echo "--- $d/redis.log:" >&2; tail -n 20 "$d/redis.log" >&2 2>/dev/null
  if [ -s "$d/stderr.log" ]; then echo "--- $d/stderr.log:" >&2; tail -n 20 "$d/stderr.log" >&2; fi
}

# True when the cluster of DIR is complete and healthy: every node up and ours,
# cluster_state ok with all nodes known and all slots assigned, every node seeing
# 3 primaries and 3 replicas and no failing node, every replica linked, and
# redis-cli's own check passes (all nodes agree on the slot configuration).
healthy() {
  local d pid port info masters=0 replicas=0 p
  for d in $(node_dirs); do
    pid=$(cat "$d/pid" 2>/dev/null); port=$(cat "$d/port" 2>/dev/null)
    [ -n "$port" ] && ours "$pid" "$d" || return 1
    info=$(cli "$port" CLUSTER INFO) || return 1
    [ "$(field cluster_state <<<"$info")" = ok ] || return 1
    [ "$(field cluster_known_nodes <<<"$info")" = $NODES ] || return 1
    [ "$(field cluster_slots_assigned <<<"$info")" = 16384 ] || return 1
    # Its view of the others: right after `--cluster create` a node may still list
    # a replica as a primary (gossip has not reached it), which confuses any client
    # that reads the topology from it.
    info=$(cli "$port" CLUSTER NODES) || return 1
    [ "$(awk '$3 ~ /(^|,)master(,|$)/' <<<"$info" | wc -l)" = 3 ] || return 1
    [ "$(awk '$3 ~ /(^|,)slave(,|$)/ && $4 != "-"' <<<"$info" | wc -l)" = 3 ] || return 1
    ! awk '{print $3}' <<<"$info" | grep -qE 'fail|handshake|noaddr|nofailover' || return 1
    info=$(cli "$port" INFO replication) || return 1
    case "$(field role <<<"$info")" in
      master) masters=$((masters + 1)) ;;
      slave)  replicas=$((replicas + 1))
              [ "$(field master_link_status <<<"$info")" = up ] || return 1 ;;
      *) return 1 ;;
    esac
  done
  [ $masters = 3 ] && [ $replicas = 3 ] || return 1
  p=$(cat "$DIR/node-1/port")
  timeout 10 redis-cli --cluster check "127.0.0.1:$p" >"$DIR/check.log" 2>&1 || return 1
  ! grep -qE '^\[(ERR|WARNING)\]' "$DIR/check.log"
}

do_start() {
  [ -r "$MODULE" ] || die "module $MODULE not found: build it (make all) or set ATOMICDOC_MODULE"
  case "$MODULE" in /*) ;; *) MODULE=$PWD/$MODULE ;; esac
  if [ -d "$DIR" ]; then
    if [ -e "$DIR/$MARKER" ]; then
      if healthy; then
        say "already running in $DIR"
        ports
        return 0
      fi
      say "a broken cluster is in $DIR: stopping it and starting afresh"
      do_stop || return 1
    elif [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then
      die "$DIR exists, is not empty and was not made by cluster.sh"
    fi
  fi
  mkdir -p "$DIR" || die "cannot create $DIR"
  : >"$DIR/$MARKER"
  exec 9<"$DIR" && flock 9

  local i d p rc attempt t0
  t0=$(now_ms)
  for i in $(seq 1 $NODES); do
    d=$DIR/node-$i
    mkdir -p "$d"
    p=$(pick_port) || die "no free port pair found in $PORT_MIN..$((PORT_MIN + PORT_SPAN))"
    TAKEN="$TAKEN$p "
    launch "$d" "$p"
  done
  for i in $(seq 1 $NODES); do
    d=$DIR/node-$i
    for attempt in $(seq 10); do
      wait_up "$d"; rc=$?
      [ $rc = 0 ] && break
      if [ $rc = 1 ] && [ "$attempt" -lt 10 ]; then
        # Someone took the port between our check and Redis's bind: another one.
        p=$(pick_port) || break
        TAKEN="$TAKEN$p "
        : >"$d/redis.log"; : >"$d/stderr.log"
        launch "$d" "$p"
        continue
      fi
      break
    done
    if [ $rc != 0 ]; then
      say "node $d (port $(cat "$d/port")) did not come up:"
      log_tail "$d"
      kill_nodes
      return 1
    fi
  done

  local addrs=()
  for p in $(ports); do addrs+=("127.0.0.1:$p"); done
  if ! timeout "$TIMEOUT" redis-cli --cluster create "${addrs[@]}" \
       --cluster-replicas 1 --cluster-yes >"$DIR/create.log" 2>&1; then
    say "redis-cli --cluster create failed:"
    tail -n 30 "$DIR/create.log" >&2
    kill_nodes
    return 1
  fi

  local deadline=$(( $(now_ms) + TIMEOUT * 1000 ))
  until healthy; do
    if [ "$(now_ms)" -ge "$deadline" ]; then
      say "the cluster in $DIR is not healthy after ${TIMEOUT}s:"
      do_status >&2
      cat "$DIR/check.log" >&2 2>/dev/null
      kill_nodes
      return 1
    fi
    sleep 0.1
  done
  say "cluster ready in $DIR after $(( $(now_ms) - t0 )) ms"
  ports
}

case "$action" in
  start)  do_start ;;
  stop)   do_stop ;;
  status) do_status ;;
  *)      usage ;;
esac
