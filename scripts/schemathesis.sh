#!/usr/bin/env bash
# Fuzzes a running attendance server from its own OpenAPI document with schemathesis:
# no request may get a 5xx, and every documented response must match its schema.
#
#   scripts/schemathesis.sh BASE_URL TOKEN [-- extra `st run` options]
#   scripts/schemathesis.sh --install      (only install it; CI does this before the tests)
#
# BASE_URL (or ATTENDANCE_URL) is e.g. http://127.0.0.1:8080; TOKEN (or ATTENDANCE_TOKEN) is
# a bearer token, an administrator's to reach every route. Use a throwaway database: the
# fuzzer sends real commands. Settings from the environment:
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation and phase (default 25)
#   SCHEMATHESIS_SEED          random seed (default 1, for repeatable runs)
#   SCHEMATHESIS_VENV          where schemathesis is installed (default ~/.cache/attendance/schemathesis)
# schemathesis is installed from PyPI into that virtualenv on first use (needs python3 with venv).
set -euo pipefail

install_only=false
if [[ ${1:-} == --install ]]; then install_only=true; shift; fi

if $install_only; then
  base=- token=-
elif (($# >= 2)) && [[ $1 != -- ]]; then
  base=$1 token=$2
  shift 2
else
  base=${ATTENDANCE_URL:-} token=${ATTENDANCE_TOKEN:-}
fi
if [[ ${1:-} == -- ]]; then shift; fi
if [[ -z $base || -z $token ]]; then
  echo "usage: $0 BASE_URL TOKEN [-- st run options] (or ATTENDANCE_URL and ATTENDANCE_TOKEN)" >&2
  exit 2
fi

venv=${SCHEMATHESIS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/attendance/schemathesis}
if [[ ! -x $venv/bin/st ]]; then
  command -v python3 >/dev/null || { echo "python3 is required (apt-get install python3-venv)" >&2; exit 1; }
  echo "==> installing schemathesis into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4.3,<5'
fi

if $install_only; then exit 0; fi

exec "$venv/bin/st" run "$base/api/openapi.json" \
  --url "$base" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-25}" \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --workers 2 \
  --request-timeout 30 \
  --generation-database none \
  --no-color \
  "$@"
