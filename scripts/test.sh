#!/usr/bin/env bash
# scripts/test.sh - the `make test` runner.
#
# Runs every step in order, even after one fails, so all failures show in one run:
#   servers             make servers    (fetch/build the servers of SERVERS, cached)
#   build               make all build/unit_tests build/integration_tests
#   lint                make lint       (core/glue wall, exported symbols, cppcheck)
#   unit                make unit
#   integration-NAME    make integration SERVER=NAME   } for each NAME in SERVERS
#   examples-NAME       make examples SERVER=NAME      } (default: all four servers)
#   readme              make readme-test  (every redis-cli session of README.md, replies exact)
#   clients             make clients-test (Node.js package tests, hiredis examples)
#   sanitize            make sanitize   (ASan + UBSan build, unit + integration, redis7)
#   cmdfuzz             make cmdfuzz CMDFUZZ_SECONDS=120  (random DOC.* commands, ASan server)
#   fuzz                make fuzz FUZZ_SECONDS=60   (only when scripts/fuzz.sh exists; the
#                       libFuzzer targets only: cmdfuzz had its own step)
# Each step's output goes to build/logs/<step>.log; the terminal gets one line per
# step (under a failed one: its failing tests' lines, then the last 40 lines of the log)
# and one summary line.
# Exit status: 0 when every step passed, 1 otherwise.
#
# Environment: SERVERS (default "redis7 redis8 valkey8.0 valkey8.1");
# STEP_TIMEOUT (seconds per step, default 1800) stops a hung step;
# FUZZ_SECONDS (default 60); CMDFUZZ_SECONDS (default 120). Test servers of the run live in a fresh
# /tmp/atomicdoc-run.* (ATOMICDOC_TMP), removed at the end unless a crashed server's
# directory was kept there.
# All of it is in main(), read whole before it runs: editing this file during a run
# cannot derail the run.
main() {
  set -uo pipefail
  cd "$(dirname "$0")/.."

  # The public conformance suites live in ../shared next to the project root
  # unless ATOMICDOC_SHARED names the directory that holds conformance/; tests
  # find them through ATOMICDOC_SHARED. Looked for, in order: a shared/ beside
  # the checkout or beside any directory above it; beside the main checkout (for
  # a git worktree) or beside the repository this one was cloned from (a clean
  # clone made elsewhere). No machine path is assumed.
  if [ -z "${ATOMICDOC_SHARED:-}" ]; then
    local d up origin main_checkout candidates=()
    up=$(pwd)
    while [ "$up" != / ]; do up=$(dirname "$up"); candidates+=("$up/shared"); done
    main_checkout=$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null) &&
      candidates+=("$(dirname "$(dirname "$main_checkout")")/shared")
    origin=$(git config --get remote.origin.url 2>/dev/null || true)
    [ -n "$origin" ] && [ -d "$origin" ] && candidates+=("$(dirname "$(cd "$origin" && pwd)")/shared")
    for d in "${candidates[@]}"; do
      if [ -d "$d/conformance" ]; then export ATOMICDOC_SHARED; ATOMICDOC_SHARED=$(cd "$d" && pwd); break; fi
    done
  fi
  if [ -z "${ATOMICDOC_SHARED:-}" ] || [ ! -d "$ATOMICDOC_SHARED/conformance" ]; then
    echo "test.sh: cannot find the conformance suites: set ATOMICDOC_SHARED to the directory" \
         "holding conformance/ (default: ../shared next to the checkout)" >&2
    exit 1
  fi

  LOGS=build/logs
  STEP_TIMEOUT=${STEP_TIMEOUT:-1800}
  FUZZ_SECONDS=${FUZZ_SECONDS:-60}
  CMDFUZZ_SECONDS=${CMDFUZZ_SECONDS:-120}
  TAIL_LINES=40
  mkdir -p "$LOGS"

  if [ -t 1 ]; then red=$'\e[31m' green=$'\e[32m' off=$'\e[0m'; else red='' green='' off=''; fi

  SERVERS=${SERVERS:-redis7 redis8 valkey8.0 valkey8.1}
  steps=(servers build lint unit)
  for s in $SERVERS; do steps+=("integration-$s" "examples-$s"); done
  steps+=(readme clients sanitize cmdfuzz)
  [ -f scripts/fuzz.sh ] && steps+=(fuzz)

  step_command() {
    case "$1" in
      servers)     echo "make --no-print-directory servers SERVERS=${SERVERS// /,}" ;;
      integration-*) echo "make --no-print-directory integration SERVER=${1#integration-}" ;;
      examples-*)  echo "make --no-print-directory examples SERVER=${1#examples-}" ;;
      build)       echo "make --no-print-directory -j$(nproc) all build/unit_tests build/integration_tests" ;;
      lint)        echo "make --no-print-directory lint" ;;
      unit)        echo "make --no-print-directory unit" ;;
      integration) echo "make --no-print-directory integration" ;;
      readme)      echo "make --no-print-directory readme-test" ;;
      clients)     echo "make --no-print-directory clients-test" ;;
      sanitize)    echo "make --no-print-directory sanitize" ;;
      cmdfuzz)     echo "make --no-print-directory cmdfuzz CMDFUZZ_SECONDS=$CMDFUZZ_SECONDS" ;;
      fuzz)        echo "make --no-print-directory fuzz FUZZ_SECONDS=$FUZZ_SECONDS CMDFUZZ_SECONDS=0" ;;
    esac
  }

  # The test harness makes its server directories under $ATOMICDOC_TMP: one of its own
  # for this run, so servers of other runs on the machine are never mistaken for ours.
  ATOMICDOC_TMP=$(mktemp -d /tmp/atomicdoc-run.XXXXXX) || exit 1
  export ATOMICDOC_TMP

  # Servers of this run (a redis-server or valkey-server chdirs into its --dir) still
  # running after a step: a leak of the harness. Prints their pids.
  leaked_servers() {
    local p cwd
    for p in $(pgrep -x 'redis-server|valkey-server' 2>/dev/null); do
      cwd=$(readlink "/proc/$p/cwd" 2>/dev/null) || continue
      case "$cwd" in "$ATOMICDOC_TMP"/*) echo "$p" ;; esac
    done
  }

  failed=()
  start_all=$SECONDS
  for step in "${steps[@]}"; do
    log="$LOGS/$step.log"
    cmd=$(step_command "$step")
    t0=$SECONDS
    (
      echo "\$ $cmd"
      # shellcheck disable=SC2086
      timeout --kill-after=30 "$STEP_TIMEOUT" $cmd
      rc=$?
      [ "$rc" = 124 ] && echo "test.sh: step '$step' stopped after ${STEP_TIMEOUT}s"
      echo "test.sh: exit status $rc"
      exit "$rc"
    ) </dev/null >"$log" 2>&1
    rc=$?
    leaks=$(leaked_servers)
    for _ in $(seq 30); do   # a server SIGKILLed with its test may take a moment to go
      [ -z "$leaks" ] && break
      sleep 0.1
      leaks=$(leaked_servers)
    done
    if [ -n "$leaks" ]; then
      echo "test.sh: server processes left running after '$step':" $leaks >>"$log"
      for p in $leaks; do kill -KILL "$p" 2>/dev/null; done
      [ "$rc" = 0 ] && rc=1
    fi
    secs=$((SECONDS - t0))
    dots=$(printf '%*s' $((24 - ${#step})) '' | tr ' ' '.')
    if [ "$rc" = 0 ]; then
      printf '%s %s %sok%s (%d s)\n' "$step" "$dots" "$green" "$off" "$secs"
    else
      printf '%s %s %sFAILED%s (%d s, exit %d; full log: %s)\n' "$step" "$dots" "$red" "$off" \
        "$secs" "$rc" "$log"
      # Which tests failed, and why, wherever they are in the log (the tail alone
      # may show only a sanitizer's leak summary after them); then the tail.
      grep -E '^\[(----|FAIL)\]|ERROR: (Address|Leak)Sanitizer|runtime error:|^[^ ]*\.c:[0-9]+: ' "$log" |
        head -n 60 | sed 's/^/    | /'
      tail -n "$TAIL_LINES" "$log" | sed 's/^/    /'
      failed+=("$step")
    fi
  done

  # A directory still holding harness.pid belonged to a test runner that died before
  # sweeping it (its server died with it); one without is a crashed server's, kept for
  # inspection.
  for d in "$ATOMICDOC_TMP"/*/; do
    [ -f "$d/harness.pid" ] && rm -rf "$d"
  done
  rmdir "$ATOMICDOC_TMP" 2>/dev/null || echo "test.sh: kept server directories in $ATOMICDOC_TMP"

  total=$((SECONDS - start_all))
  if [ "${#failed[@]}" = 0 ]; then
    echo "atomicdoc: all ${#steps[@]} steps passed in $total s"
    exit 0
  fi
  list=$(IFS=,; echo "${failed[*]}" | sed 's/,/, /g')
  echo "atomicdoc: ${#failed[@]} of ${#steps[@]} steps FAILED: $list (in $total s)"
  exit 1
}

main "$@"
