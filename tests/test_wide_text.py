"""Protocol text saved as UTF-16 ("Unicode" on Windows: Notepad, PowerShell's `>`, .NET writers) reads as the same
text in UTF-8 does, for every text format: printouts, print-protocol XML, .pro/ASCCONV, sidecars.

The expected values are the UTF-8 file's own reading, which the other tests hold to independent sources; the
property here is only that the encoding of the same text changes nothing.
"""

from __future__ import annotations

import json
import shutil

import pytest

from ofsep_presets.acquisition import ReadError
from ofsep_presets.readers import inspect_path

from .support import print_xml

# The layout of an XA .pro's ASCCONV block, key <TAB>=<TAB> value, as cest-sources/cestineers
# prot/3T/snapshot_GRE/C2P_MP044_VA50/gre_cest_MPI04_APTw_001_FA7_fatsat.pro writes it (values from that file).
XA_PRO = "\n".join(
    [
        "### ASCCONV BEGIN object=MrProtDataImpl@MrProtocolData version=65010000 ###",
        'tProtocolName\t = \t"gre_cest_MPI04_APTw_001_FA7_fatsat"',
        "sProtConsistencyInfo.flNominalB0\t = \t2.89362001419",
        "alTR[0]\t = \t4000",
        "alTE[0]\t = \t2000",
        "lContrasts\t = \t1",
        "adFlipAngleDegree[0]\t = \t7.0",
        "sKSpace.lBaseResolution\t = \t112",
        "sKSpace.ucDimension\t = \t4",
        "sKSpace.lImagesPerSlab\t = \t12",
        "sSliceArray.asSlice[0].dThickness\t = \t60.0",
        "sPat.lAccelFactPE\t = \t2",
        "### ASCCONV END ###",
        "",
    ]
)


def _params(path):
    [inspection] = inspect_path(path)
    return inspection.format, [a.params for a in inspection.acquisitions]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_pro_saved_as_utf16_reads_as_its_utf8_text(tmp_path, encoding):
    plain, wide = tmp_path / "plain.pro", tmp_path / "wide.pro"
    plain.write_text(XA_PRO, encoding="utf-8")
    bom = b"\xfe\xff" if encoding == "utf-16-be" else b""
    wide.write_bytes(bom + XA_PRO.encode(encoding))
    assert _params(wide) == _params(plain)
    fmt, [params] = _params(plain)
    assert fmt == "siemens-ascconv" and params["repetition_time_ms"] == 4.0 and params["slice_thickness_mm"] == 5.0


def test_a_print_protocol_xml_written_as_utf16_reads_as_its_utf8_text(tmp_path):
    rows = [("TR", "2300 ms"), ("TE", "2.98 ms"), ("Flip angle", "9 deg"), ("Slice thickness", "1.0 mm")]
    plain = print_xml(tmp_path, rows)
    text = plain.read_text(encoding="utf-8").replace("<?xml version='1.0'?>", '<?xml version="1.0" encoding="UTF-16"?>')
    wide = tmp_path / "wide.xml"
    wide.write_bytes(text.encode("utf-16"))
    assert _params(wide) == _params(plain)
    fmt, [params] = _params(plain)
    assert fmt == "siemens-printxml" and params["repetition_time_ms"] == 2300.0


def test_a_doctype_in_utf16_xml_is_still_refused(tmp_path):
    wide = tmp_path / "wide.xml"
    text = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e "e">]><PrintOut>&e;</PrintOut>'
    wide.write_bytes(text.encode("utf-16"))
    with pytest.raises(ReadError, match="DOCTYPE"):
        inspect_path(wide)


def test_a_sidecar_saved_as_utf16_le_with_its_mark_reads(tmp_path):
    side = {"RepetitionTime": 2.0, "EchoTime": 0.03, "Manufacturer": "GE", "MagneticFieldStrength": 3}
    wide = tmp_path / "sub-01_T2w.json"
    wide.write_bytes(b"\xff\xfe" + json.dumps(side).encode("utf-16-le"))
    fmt, [params] = _params(wide)
    assert fmt == "bids-json" and params["echo_time_ms"] == 30.0 and params["manufacturer"] == "ge"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (tests only) makes the text printout")
def test_the_philips_printout_text_saved_as_utf16_reads_as_its_utf8_text(tmp_path):
    from .test_printout_text_variants import PDF, real_text

    if not PDF.is_file():
        pytest.skip("the vendor-exports fixtures are not here")
    plain, wide = tmp_path / "plain.txt", tmp_path / "wide.txt"
    plain.write_text(real_text(), encoding="utf-8")
    wide.write_bytes(real_text().encode("utf-16"))
    fmt, read = _params(plain)
    assert fmt == "philips-printout" and len(read) > 3
    assert _params(wide) == (fmt, read)


def test_a_pro_cut_short_reads_what_it_holds_and_no_cut_value_or_default(tmp_path):
    """A .pro cut inside its ASCCONV block (no END line; the last line cut from "= 112" to "= 11"): the whole
    lines read as in the whole file; the cut line, and the defaults only a whole block implies, are absent."""
    whole = tmp_path / "whole.pro"
    whole.write_text(XA_PRO, encoding="utf-8")
    cut = tmp_path / "cut.pro"
    at = XA_PRO.index("sKSpace.lBaseResolution\t = \t11") + len("sKSpace.lBaseResolution\t = \t11")
    cut.write_text(XA_PRO[:at], encoding="utf-8")
    [inspection] = inspect_path(cut)
    [acq] = inspection.acquisitions
    _, [full] = _params(whole)
    assert acq.get("repetition_time_ms") == full["repetition_time_ms"] == 4.0
    assert acq.get("flip_angle_deg") == full["flip_angle_deg"] == 7.0
    assert acq.get("base_resolution") is None and acq.get("matrix") is None  # not 11
    assert acq.get("averages") is None and "averages" in full  # "lAverages absent: default 1" needs the whole block
    assert any("cut short" in w for w in inspection.warnings)
