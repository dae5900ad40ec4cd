#!/bin/sh
# Re-derive the bundled specs' suggestions from the real reference acquisitions (maintainers; needs ../shared).
# What is read, for which exam, and what a document states for files that do not: tools/references.yaml.
set -e
cd "$(dirname "$0")/.."
REFS="${REFS:-../shared/fixtures}"
python -m ofsep_presets.suggest --config tools/references.yaml --refs "$REFS" --out protocol_spec/suggested/ofsep-2020.yaml
