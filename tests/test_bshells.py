"""b-values as shells, not as every volume's effective value (issue 11: values right on real sidecars/DICOM).

A scanner writes each volume's effective b-value (the nominal one scaled by its gradient vector's squared norm;
MRtrix3 documents this as BValueScaling), so a real multi-shell series lists many values per shell. The expected
shells come from what the acquisition itself states elsewhere: the protocol name a site gave it.
"""

from __future__ import annotations

import json

import pytest

from ofsep_presets.bshells import nominal_shells
from ofsep_presets.readers import inspect_path

from .conftest import FIXTURES

ON_HARMONY = FIXTURES / "references/on-harmony/sub-03286/ses-OXF1PRI001/dwi/sub-03286_ses-OXF1PRI001_dir-AP_dwi"


def test_a_siemens_multishell_sidecar_reads_as_its_two_shells():
    # ON-Harmony (OpenNeuro ds004712, CC0), Siemens Prisma E11: ProtocolName
    # "diff_AP_MPopt_MB3_50b1000_50b2000_8b0_lowflip" (50 volumes at b=1000, 50 at b=2000, b0s); its .bval lists
    # 990, 995, 1000, 1005 and 1985 ... 2010 (read as eleven b-values before). The 2000 shell's volumes average
    # 1997.3 s/mm²: the shell is the roundest value its volumes span, the protocol's 2000.
    sidecar = json.loads(ON_HARMONY.with_suffix(".json").read_text())
    assert "50b1000_50b2000" in sidecar["ProtocolName"]
    [inspection] = inspect_path(ON_HARMONY.with_suffix(".json"))
    (acq,) = inspection.acquisitions
    b = acq.get("b_values")
    assert b == [0.0, 1000.0, 2000.0]
    assert "shells" in acq.provenance["b_values"]


def test_volumes_of_one_shell_join_and_close_low_b_values_stay_apart():
    # One shell's scatter (the ON-Harmony values above) joins; the close low b-values of a multi-b (IVIM-like)
    # series stay distinct although MRtrix3's absolute epsilon (80 s/mm²) alone would join 50, 100 and 150.
    assert nominal_shells([5, 990, 995, 1000, 1005, 1985, 1995, 2000, 2010]) == [0.0, 1000.0, 2000.0]
    assert nominal_shells([0, 50, 100, 150, 200, 400, 800]) == [0.0, 50.0, 100.0, 150.0, 200.0, 400.0, 800.0]
    assert nominal_shells([1000, 1000, 2500]) == [1000.0, 2500.0]  # no b0 acquired: none stated
    assert nominal_shells([]) == []


# dcm2niix's .bval of each fixture series (an independent reader), counted by hand: the shells it holds.
DCM2NIIX_SHELLS = {
    "Canon/Galan3T_V6.1_enh_DTI_PA-ortho_full": [0.0, 1500.0],  # 1 × 0, 12 × 1500
    "Philips/Ingenia_classic_DTI_Biobank_2mm_full": [0.0, 1000.0],  # 0, 0.001 … 0.004 (b0s), 12 × 1000
    "Siemens/VE11_DTI_ep2d_diff_20dir_mosaic": [0.0, 2000.0],  # 1 × 0, 20 × 2000
    "Siemens/XA30_enh_DWI_dir80_PA": [0.0, 2500.0],  # 1 × 0, 20 × 2500
}


@pytest.mark.parametrize("series", sorted(DCM2NIIX_SHELLS))
def test_dicom_shells_equal_dcm2niix_shells(series):
    # The DICOM series read into the shells dcm2niix's .bval of the same series holds.
    folder = FIXTURES / "dicom" / series
    assert next(folder.glob("bids_json_dcm2niix/*.bval"))  # the independent reading is there
    found = {i.format: i.acquisitions for i in inspect_path(folder)}
    dicom = [a for a in found["dicom"] if a.get("b_values")]
    assert dicom and dicom[0].get("b_values") == DCM2NIIX_SHELLS[series]
