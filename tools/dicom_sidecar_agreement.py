"""Each fixture DICOM series read by `inspect` against the dcm2niix sidecar beside it (maintainers).

    python tools/dicom_sidecar_agreement.py

For every `bids_json_dcm2niix/*.json` under ../shared/fixtures/dicom, the series folder is read as DICOM and each
field the sidecar states (BIDS units converted) is compared with the canonical value: DIFF where both state it
and disagree, MISSING where only the sidecar states it. dcm2niix is the independent reading here; a series whose
sidecar describes one echo of several (the "_e2" sidecar) differs on that echo's TE by design.
"""

from __future__ import annotations

import json

from fixture_cases import BIDS_FIELDS, FIXTURES, agrees, expected

from ofsep_presets.readers import inspect_path

ROOT = FIXTURES / "dicom"
# BIDS field: (canonical parameter, factor to its unit; None: compared as text)
FIELDS = {
    **BIDS_FIELDS,
    "ParallelReductionFactorOutOfPlane": ("parallel_factor_slice", 1),
    "PartialFourier": ("partial_fourier", 1),
    "ParallelAcquisitionTechnique": ("parallel_mode", None),
}


def main() -> int:
    for sidecar in sorted(ROOT.rglob("bids_json_dcm2niix/*.json")):
        folder = sidecar.parent.parent
        stated = json.loads(sidecar.read_text())
        acqs = [a for i in inspect_path(folder) if i.format == "dicom" for a in i.acquisitions]
        if not acqs:
            print(folder.relative_to(ROOT), "NO ACQUISITION")
            continue
        acq, out = acqs[0], []
        for field, (param, factor) in FIELDS.items():
            if field not in stated:
                continue
            value, mine = expected(stated[field], factor), acq.get(param)
            if value is None:
                continue
            if mine is None:
                out.append(f"MISSING {param} (sidecar {field}={value})")
            elif not agrees(value, mine):
                out.append(f"DIFF {param}: ours {mine}, sidecar {value}")
        print(folder.relative_to(ROOT), "; ".join(out) or "ok")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
