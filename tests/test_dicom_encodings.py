"""DICOM: one series read the same whatever encoding and framing stores it (issue 11: no input unreadable).

The same real headers (the fixtures, from neurolabusc/dcm_qa*) re-encoded as archives, PACS and old consoles
write them; each must read to the values dcm2niix's sidecar of that series states (the independent reading the
fixtures carry, tests/test_inspect_dicom.py), and to the values of the Part 10 original.

- A bare data set: no 128-byte preamble, no "DICM" prefix, no file meta group (PS3.10 7.1 puts them before the
  data set of a DICOM File; dcm2niix issue 15, "a DICOM dataset without the DICOM file meta information", and
  dcmtk's `dcmconv --write-dataset` write it so), in implicit VR little endian (the default transfer syntax,
  PS3.5 10.1 and A.1), explicit VR little endian (PS3.5 A.2) and, through dcmconv, explicit VR big endian
  (PS3.5 A.3).
- Part 10 files in Deflated Explicit VR Little Endian (1.2.840.10008.1.2.1.99, PS3.5 A.5) and Explicit VR Big
  Endian (1.2.840.10008.1.2.2, PS3.5 A.3), as `dcmconv +td` / `+tb` write them (dcm_qa_ts's 3.dcm is made so).
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

from ofsep_presets.acquisition import ReadError
from ofsep_presets.readers import dicom, inspect_path, reader_for

from .conftest import FIXTURES
from .test_inspect_dicom import _same

DICOM = FIXTURES / "dicom"
# Small series with dcm2niix's sidecar: one per vendor (GE's DWI: its b0 states its b-value only in (0043,1039)).
SERIES = [
    "Siemens/VE11_PD_T2_tse_sag_1.8mm",
    "GE/SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full",
    "GE/SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm",
    "Philips/Ingenia_classic_ADNI_Sag3D_MPRAGE_1mm",
]
# As tests/test_inspect_dicom.py: the sidecar is dcm2niix's file of the second echo.
DELIBERATE = {"VE11_PD_T2_tse_sag_1.8mm": {"echo_time_ms", "acquisition_time"}}
DCMCONV = shutil.which("dcmconv")


def _plain(series: Path, out: Path) -> list[Path]:
    """The series' DICOM files (un-gzipped) copied to `out`."""
    out.mkdir(parents=True)
    files = []
    for source in sorted(p for p in series.iterdir() if p.is_file()):
        data = source.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        target = out / source.name.removesuffix(".gz")
        target.write_bytes(data)
        files.append(target)
    return files


def _bare(files: list[Path], out: Path, implicit: bool) -> None:
    """Each file's data set alone (no preamble, prefix or file meta), as pydicom writes it."""
    import warnings

    import pydicom

    out.mkdir()
    for source in files:
        ds = pydicom.dcmread(source)
        del ds.file_meta
        ds.preamble = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a GE private value longer than its VR allows: kept as it is
            ds.save_as(out / source.name, implicit_vr=implicit, little_endian=True, enforce_file_format=False)


def _dcmconv(files: list[Path], out: Path, *options: str) -> None:
    out.mkdir()
    for source in files:
        subprocess.run([DCMCONV, "-q", *options, str(source), str(out / source.name)], check=True, timeout=60)


def _acquisition(folder: Path):
    [inspection] = [i for i in inspect_path(folder) if i.format == "dicom"]
    assert len(inspection.acquisitions) == 1
    return inspection.acquisitions[0]


def _variants(tmp_path: Path, series: str) -> tuple[Path, list[tuple[str, Path]]]:
    original = tmp_path / "part10"
    files = _plain(DICOM / series, original)
    made = []
    for name, implicit in (("bare implicit VR LE", True), ("bare explicit VR LE", False)):
        folder = tmp_path / name.replace(" ", "_")
        _bare(files, folder, implicit)
        made.append((name, folder))
    if DCMCONV:
        for name, options in (
            ("deflated explicit VR LE", ("+td",)),
            ("explicit VR big endian", ("+tb",)),
            ("bare explicit VR big endian", ("-F", "+tb")),
            ("bare implicit VR LE (dcmconv)", ("-F", "+ti")),
        ):
            folder = tmp_path / name.replace(" ", "_").replace("(", "").replace(")", "")
            _dcmconv(files, folder, *options)
            made.append((name, folder))
    return original, made


@pytest.mark.parametrize("series", SERIES, ids=[s.split("/")[1] for s in SERIES])
def test_every_encoding_reads_as_dcm2niix_reads_the_series(tmp_path: Path, series: str):
    [sidecar] = sorted((DICOM / series / "bids_json_dcm2niix").glob("*.json"))
    theirs = inspect_path(sidecar)[0].acquisitions[0]
    original, variants = _variants(tmp_path, series)
    reference = _acquisition(original)
    deliberate = DELIBERATE.get(Path(series).name, set())
    for name, folder in variants:
        ours = _acquisition(folder)
        shared = set(ours.params) & set(theirs.params)
        assert len(shared) >= 15, (name, shared)
        diffs = {k for k in shared if not _same(k, ours.params[k], theirs.params[k])}
        assert diffs == deliberate, (name, {k: (ours.params[k], theirs.params[k]) for k in diffs})
        assert ours.params == reference.params, name


def test_a_bare_data_set_is_dicom_by_its_structure(tmp_path: Path):
    """The sniff reads the data set's first elements (group 0008, ascending, whole, one encoding), not a name."""
    files = _plain(DICOM / SERIES[0], tmp_path / "part10")
    _bare(files[:1], tmp_path / "implicit", True)
    _bare(files[:1], tmp_path / "explicit", False)
    for folder in ("implicit", "explicit"):
        path = tmp_path / folder / files[0].name
        head = path.read_bytes()[:4096]
        assert head[:2] == b"\x08\x00" and head[128:132] != b"DICM"
        assert dicom.bare_dataset(head), folder
        assert reader_for(path) is dicom
        renamed = path.with_name("IM_0001.IMA")
        path.rename(renamed)
        assert reader_for(renamed) is dicom  # any name
    # Not DICOM: text, XML, a zip, a group-0008 tag followed by bytes no element reads as, descending tags.
    assert not dicom.bare_dataset(b"<?xml version='1.0'?><root/>" + b" " * 200)
    assert not dicom.bare_dataset(b"PK\x03\x04" + b"\0" * 200)
    assert not dicom.bare_dataset(b"\x08\x00\x05\x00" + b"hello, this is plain text, not a DICOM data set")
    descending = b"\x08\x00\x16\x00UI\x02\x001\x00" + b"\x08\x00\x05\x00CS\x00\x00"
    assert not dicom.bare_dataset(descending)
    odd = b"\x08\x00\x05\x00CS\x03\x00abc" + b"\x08\x00\x08\x00CS\x02\x00AB"
    assert not dicom.bare_dataset(odd)


def test_a_bare_data_set_beside_part10_files_joins_its_series(tmp_path: Path):
    """One series whose files were stored partly bare (an archive that re-wrote some): one acquisition, read as
    the Part 10 series is; the b-values are the files' own (dcmdump: 12 files state (0018,9087) 1000, the two
    b0 files only (0043,1039) "0\\8\\0\\0"), whichever way each file is stored."""
    series = DICOM / SERIES[1]
    files = _plain(series, tmp_path / "mixed")
    _bare(files[::2], tmp_path / "bare", True)
    for bare in (tmp_path / "bare").iterdir():
        shutil.copy(bare, tmp_path / "mixed" / bare.name)
    [inspection] = [i for i in inspect_path(tmp_path / "mixed") if i.format == "dicom"]
    assert not [w for w in inspection.warnings if "skipped" in w], inspection.warnings  # every file read
    [acq] = inspection.acquisitions
    reference = _acquisition(series)
    assert acq.params == reference.params
    assert sorted(set(acq.params["b_values"])) == [0.0, 1000.0]


# ---- Images whose SeriesInstanceUID was removed (a de-identifier that drops UIDs instead of replacing them) ----

NIBABEL_DATA = Path(__import__("nibabel").__file__).parent / "nicom" / "tests" / "data"


def _without(files: list[Path], out: Path, *keywords: str) -> None:
    import pydicom

    out.mkdir()
    for source in files:
        ds = pydicom.dcmread(source)
        for keyword in keywords:
            delattr(ds, keyword)
        ds.save_as(out / source.name)


@pytest.mark.skipif(not (NIBABEL_DATA / "decimal_rescale.dcm").is_file(), reason="nibabel's test data not installed")
def test_a_public_image_without_series_uid_is_read():
    """nibabel's decimal_rescale.dcm (a de-identified Siemens TrioTim image, MIT) has no SeriesInstanceUID; its
    header (dcmdump) states SeriesNumber 7, SeriesDescription "CV_map_neuro_qT1_FA12nTI128", TR 50, TE 2.5. It
    was "no readable DICOM series"."""
    [inspection] = inspect_path(NIBABEL_DATA / "decimal_rescale.dcm")
    [acq] = inspection.acquisitions
    assert acq.name == "7 CV_map_neuro_qT1_FA12nTI128"
    assert acq.params["repetition_time_ms"] == 50.0 and acq.params["echo_time_ms"] == 2.5
    assert any("state no SeriesInstanceUID" in w for w in inspection.warnings)


def test_series_without_uids_are_told_apart_by_number_and_description(tmp_path: Path):
    """Two fixture series with SeriesInstanceUID removed, in one folder: two acquisitions, each read as with its
    UID (the files' own headers); a file without SeriesNumber either (cut before it) is still skipped."""
    siemens = _plain(DICOM / SERIES[0], tmp_path / "siemens")
    ge = _plain(DICOM / SERIES[1], tmp_path / "ge")
    folder = tmp_path / "no_uid"
    _without(siemens + ge, folder, "SeriesInstanceUID")
    _without(siemens[:1], tmp_path / "cut", "SeriesInstanceUID", "SeriesNumber")
    shutil.copy(tmp_path / "cut" / siemens[0].name, folder / "cut.dcm")
    [inspection] = inspect_path(folder)
    read = {a.name: a.params for a in inspection.acquisitions}
    expected = {a.name: a.params for a in (_acquisition(tmp_path / "siemens"), _acquisition(tmp_path / "ge"))}
    assert read == expected
    assert any(
        w.startswith(f"{len(siemens) + len(ge)} MR image(s) state no SeriesInstanceUID") and "into 2 series" in w
        for w in inspection.warnings
    ), inspection.warnings
    assert any("cut.dcm: MR image without SeriesInstanceUID (truncated?); skipped" in w for w in inspection.warnings)


# ---- United Imaging (UIH): b-value and gradient only in private elements ----------------------------------------


def _as_uih(files: list[Path], out: Path, implicit: bool, before: str | None = None) -> None:
    """The GE DTI series re-labelled as UIH writes diffusion (dcm2niix's UIH/README.md, the table UIH gave: (0065,1009)
    BActualValue FD, (0065,1037) MRDiffusionGradOrientation FD 3): the standard (0018,9087/9089) and GE private
    diffusion elements removed, each file's own b-value ((0043,1039) first value) and gradient ((0019,10BB-BD))
    written there instead. `before`: another creator written at (0065,0010) first, so that UIH's block is (0065,11xx).
    """
    import warnings

    import pydicom

    out.mkdir()
    for source in files:
        ds = pydicom.dcmread(source)
        b = float(str(ds[0x00431039].value[0]))
        vector = [float(ds[t].value) for t in (0x001910BB, 0x001910BC, 0x001910BD)]
        for tag in (0x00189087, 0x00189089, 0x00431039, 0x001910BB, 0x001910BC, 0x001910BD):
            if tag in ds:
                del ds[tag]
        ds.Manufacturer, ds.ManufacturerModelName = "UIH", "uMR 770"
        if before:
            ds.private_block(0x0065, before, create=True).add_new(0x09, "FD", 777.0)  # not UIH's: no b-value
        # UIH's own creator of that block (GDCM gdcmEquipmentManufacturer.cxx: (0065,xx0A) "Image Private Header"):
        # the elements are UIH's only in a block of that creator (PS3.5 7.8.1).
        block = ds.private_block(0x0065, "Image Private Header", create=True)
        block.add_new(0x09, "FD", b)
        block.add_new(0x37, "FD", vector)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            syntax = pydicom.uid.ImplicitVRLittleEndian if implicit else pydicom.uid.ExplicitVRLittleEndian
            ds.file_meta.TransferSyntaxUID = syntax
            ds.save_as(out / source.name, enforce_file_format=True)


@pytest.mark.parametrize("fast", [True, False], ids=["fast scan", "pydicom scan"])
@pytest.mark.parametrize("implicit", [False, True], ids=["explicit VR", "implicit VR"])
def test_uih_diffusion_is_read_from_its_private_elements(tmp_path: Path, monkeypatch, fast: bool, implicit: bool):
    """The b-values and directions are each file's own (the GE original: b 0 and 1000, 6 directions); without
    UIH's private elements they were lost (every file read as unweighted)."""
    monkeypatch.setattr(dicom, "FAST", fast)
    files = _plain(DICOM / SERIES[1], tmp_path / "ge")
    reference = _acquisition(tmp_path / "ge")
    _as_uih(files, tmp_path / "uih", implicit)
    acq = _acquisition(tmp_path / "uih")
    assert acq.params["manufacturer"] == "other" and acq.params["model"] == "uMR 770"
    assert acq.params["b_values"] == reference.params["b_values"] == [0.0, 1000.0]
    assert acq.params["diffusion_directions"] == reference.params["diffusion_directions"] == 6


def test_an_acr_nema_style_header_without_sop_class_is_an_mr_image_by_its_modality(tmp_path: Path):
    """ACR-NEMA 2.0 headers predate SOP classes and were written bare: the fixture series stored so (no file meta,
    no (0008,0016)) reads as its Part 10 original, an MR image by Modality "MR" (0008,0060) with Rows; the same
    header with Modality "CT" is still an object that is no MR image."""
    import warnings

    import pydicom

    files = _plain(DICOM / SERIES[0], tmp_path / "part10")
    reference = _acquisition(tmp_path / "part10")
    for modality in ("MR", "CT"):
        out = tmp_path / modality
        out.mkdir()
        for source in files:
            ds = pydicom.dcmread(source)
            del ds.file_meta
            del ds.SOPClassUID
            ds.preamble, ds.Modality = None, modality
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds.save_as(out / source.name, implicit_vr=True, little_endian=True, enforce_file_format=False)
    assert _acquisition(tmp_path / "MR").params == reference.params
    with pytest.raises(ReadError, match="not MR images ignored"):
        inspect_path(tmp_path / "CT")


# ---- Canon (Toshiba) classic DWI: the gradient only in ImageComments --------------------------------------------

CANON = DICOM / "Canon/Galan3T_V6.0_classic_DTI_PA-ortho"


@pytest.mark.parametrize("fast", [True, False], ids=["fast scan", "pydicom scan"])
def test_canon_classic_gradients_are_read_from_image_comments(tmp_path: Path, monkeypatch, fast: bool):
    """The Galan 3T V6.0 classic DTI files state (0018,9087) but no (0018,9089); their ImageComments state the
    gradient (dcmdump: both b=1500 files "b=1500(0.895,0.000,0.445)", the b0 none): one direction at b=1500.
    The same files with the second b=1500 file's comment naming another gradient: two. It was no direction."""
    import pydicom

    monkeypatch.setattr(dicom, "FAST", fast)
    files = _plain(CANON, tmp_path / "canon")
    acq = _acquisition(tmp_path / "canon")
    assert acq.params["b_values"] == [0.0, 1500.0]
    assert acq.params["diffusion_directions"] == 1
    weighted = [f for f in files if "b=1500" in str(pydicom.dcmread(f, stop_before_pixels=True).get("ImageComments"))]
    assert len(weighted) == 2
    ds = pydicom.dcmread(weighted[1])
    ds.ImageComments = "b=1500(0.000,0.895,0.445)"
    ds.save_as(weighted[1])
    assert _acquisition(tmp_path / "canon").params["diffusion_directions"] == 2
