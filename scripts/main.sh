#!/usr/bin/env bash
# The main job on the embedded default (or on real dumps: --wikidata DUMP --wikipedia FILE):
# set up, then run the pipeline (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh env
exec .venv/bin/redsearcher run "$@"
