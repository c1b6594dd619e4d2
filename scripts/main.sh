#!/usr/bin/env bash
# The main job on the embedded default: set up, then run the pipeline (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh env
exec .venv/bin/redsearcher run "$@"
