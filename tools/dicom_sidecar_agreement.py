"""Each fixture DICOM series read by `inspect` against the dcm2niix sidecar beside it (maintainers).

    python tools/dicom_sidecar_agreement.py

For every `bids_json_dcm2niix/*.json` under ../shared/fixtures/dicom, the series folder is read as DICOM and each
field the sidecar states (BIDS units converted) is compared with the canonical value: DIFF where both state it
and disagree, MISSING where only the sidecar states it. dcm2niix is the independent reading here; a series whose
sidecar describes one echo of several (the "_e2" sidecar) differs on that echo's TE by design.
"""

from __future__ import annotations

import json
from pathlib import Path

from ofsep_presets.readers import inspect_path

ROOT = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "dicom"
# BIDS field: (canonical parameter, factor to its unit; None: compared as text)
FIELDS = {
    "RepetitionTime": ("repetition_time_ms", 1000),
    "EchoTime": ("echo_time_ms", 1000),
    "InversionTime": ("inversion_time_ms", 1000),
    "FlipAngle": ("flip_angle_deg", 1),
    "SliceThickness": ("slice_thickness_mm", 1),
    "MagneticFieldStrength": ("field_strength_t", 1),
    "ParallelReductionFactorInPlane": ("parallel_factor", 1),
    "ParallelReductionFactorOutOfPlane": ("parallel_factor_slice", 1),
    "MultibandAccelerationFactor": ("multiband_factor", 1),
    "PixelBandwidth": ("pixel_bandwidth_hz", 1),
    "EchoTrainLength": ("echo_train_length", 1),
    "PartialFourier": ("partial_fourier", 1),
    "MRAcquisitionType": ("acquisition_type", None),
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
            value = stated[field][0] if isinstance(stated[field], list) and stated[field] else stated[field]
            mine = acq.get(param)
            expected = value * factor if factor and isinstance(value, (int, float)) else value
            if mine is None:
                out.append(f"MISSING {param} (sidecar {field}={value})")
            elif isinstance(expected, (int, float)) and isinstance(mine, (int, float)):
                if abs(expected - mine) > 1e-3 * max(1, abs(expected)):
                    out.append(f"DIFF {param}: ours {mine}, sidecar {expected}")
            elif str(expected).lower() != str(mine).lower():
                out.append(f"DIFF {param}: ours {mine}, sidecar {expected}")
        print(folder.relative_to(ROOT), "; ".join(out) or "ok")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
