#!/usr/bin/env bash
# Checks the OpenAPI document the way an integrator's tools see it, with tools nobody here wrote:
# openapi-spec-validator (OpenAPI 3.1 schema) and openapi-python-client (a generated client).
#
#   scripts/openapi-tools.sh --install                 only install them; CI does this before the tests
#   scripts/openapi-tools.sh validate DOC              DOC: a file or an http(s) URL of openapi.json
#   scripts/openapi-tools.sh generate DOC OUT_DIR      writes a Python client package into OUT_DIR
#                                                      (settings: tests/openapi/generator.yml)
#   scripts/openapi-tools.sh python [ARGS...]          the virtualenv's python (httpx, attrs: what the
#                                                      generated client imports)
#
# Settings from the environment:
#   OPENAPI_TOOLS_VENV  where the tools are installed (default ~/.cache/attendance/openapi-tools)
# The tools are installed from PyPI into that virtualenv on first use (needs python3 with venv);
# nothing is fetched when they run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${OPENAPI_TOOLS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/attendance/openapi-tools}

install() {
  [[ -x $venv/bin/openapi-spec-validator && -x $venv/bin/openapi-python-client ]] && return
  command -v python3 >/dev/null || { echo "python3 is required (apt-get install python3-venv)" >&2; exit 1; }
  echo "==> installing openapi-spec-validator and openapi-python-client into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    'openapi-spec-validator>=0.9,<0.10' 'openapi-python-client>=0.29,<0.30'
}

usage() {
  echo "usage: $0 --install | validate DOC | generate DOC OUT_DIR | python [ARGS...]" >&2
  exit 2
}

# A URL is fetched once into a file, so both tools read exactly the same bytes.
local_copy() {
  local doc=$1 dir=$2
  if [[ $doc == http://* || $doc == https://* ]]; then
    "$venv/bin/python" -c 'import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1]).read())' \
      "$doc" >"$dir/openapi.json"
    echo "$dir/openapi.json"
  else
    echo "$doc"
  fi
}

command=${1:-}
[[ -n $command ]] || usage
shift
install
case $command in
  --install) ;;
  validate)
    (($# == 1)) || usage
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    "$venv/bin/openapi-spec-validator" --schema 3.1 --validation-errors all "$(local_copy "$1" "$work")"
    ;;
  generate)
    (($# == 2)) || usage
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    # --fail-on-warning: a schema the generator had to skip is a gap in the document. Its
    # formatting hooks run the virtualenv's ruff, found on PATH.
    PATH="$venv/bin:$PATH" "$venv/bin/openapi-python-client" generate --path "$(local_copy "$1" "$work")" \
      --output-path "$2" --overwrite --fail-on-warning --meta none \
      --config "$root/tests/openapi/generator.yml"
    ;;
  python) exec "$venv/bin/python" "$@" ;;
  *) usage ;;
esac
