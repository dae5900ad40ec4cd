#!/bin/sh
# Re-derive the bundled specs' suggestions from the real reference acquisitions (maintainers; needs ../shared).
# The OpenNeuro references are head studies: they may only suggest brain sequences (--exam brain).
set -e
cd "$(dirname "$0")/.."
REFS="${REFS:-../shared/fixtures/references}"
python -m ofsep_presets.suggest --spec ofsep-2020 --exam brain "$REFS" --out protocol_spec/suggested/ofsep-2020.yaml
