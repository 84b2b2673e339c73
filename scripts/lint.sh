#!/usr/bin/env bash
# scripts/lint.sh - `make lint`: the wall between the core and the glue, then
# cppcheck over module/. Exits non-zero on any finding.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

# The C files under one style (.clang-format); `make format` applies it.
# unicode_gc.c is generated and stays as its script writes it.
format_files() {
  git ls-files 'module/*.[ch]' 'tests/*.[ch]' 'examples/c/*.[ch]' | grep -v '^module/doc/unicode_gc\.c$'
}
if [ "${1:-}" = --format-files ]; then format_files; exit 0; fi

# The core (module/doc/) is a pure library: no Redis API, no Redis header.
if grep -nE 'RedisModule_[A-Za-z]+[[:space:]]*\(|#[[:space:]]*include[[:space:]]*[<"]redismodule\.h' module/doc/*.c module/doc/*.h; then
  echo "lint: module/doc/ must not use the Redis module API (the lines above)"
  status=1
fi

# Only module.c may export a symbol (RedisModule_OnLoad); -fvisibility=hidden
# does the rest, checked on the built module when present (in $BUILD, the
# Makefile's build directory, default build).
so=${BUILD:-build}/atomicdoc.so
if [ -f "$so" ]; then
  exported=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TD]$/ {print $3}' | grep -v '^_' || true)
  if [ "$exported" != "RedisModule_OnLoad" ]; then
    echo "lint: $so exports more than RedisModule_OnLoad:"; echo "$exported"
    status=1
  fi
fi

if command -v cppcheck >/dev/null 2>&1; then
  if ! cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability,performance \
      --inline-suppr --suppress=missingIncludeSystem -I module -I module/doc \
      -D__GNUC__ -DREDISMODULE_API= module/ 2>&1; then
    echo "lint: cppcheck findings above"
    status=1
  fi
else
  echo "lint: cppcheck not installed, skipped"
fi
# Formatting output differs between clang-format versions: checked with the
# one the style was made with (Debian 12's 14).
if command -v clang-format >/dev/null 2>&1 && clang-format --version | grep -q 'version 14\.'; then
  out=$(format_files | xargs clang-format --dry-run --Werror 2>&1)
  if [ -n "$out" ]; then
    echo "$out" | head -20
    echo "lint: files not in .clang-format's style (above): run make format"
    status=1
  fi
else
  echo "lint: clang-format 14 not installed, style not checked"
fi
exit $status
