"""One GE study (and two Siemens ones) read three ways, files on disk, `pacs://` (C-GET: whole files) and
`dicomweb://` (WADO-RS metadata: headers as DICOM JSON, a few bulk values per series), gives the same
acquisitions, values and check decisions (issues 10, 11).

Truth: the files on disk (tests/test_ge_dicom_protocol.py checks their values against each fixture's own
(0025,101B) block inflated with Python's gzip and against the dcm2niix sidecars). The study is the three GE fixture
series (SIGNA Pioneer MP-RAGE and DTI, SIGNA Premier 3-plane localizer) put in one study, the MP-RAGE a second time
with its Rx's CONTRAST "Yes" (test_ge_dicom_protocol: the blocks GDCM harvested hold CONTRAST "Yes" beside CONTAG
"GAD"), and ReceiveCoilName / AnatomicRegionSequence emptied so that coil and anatomy come from the series protocol
only. Stored into Orthanc (Debian `orthanc` + `orthanc-dicomweb`, on loopback: tests/support.py's `orthanc`),
which sends the private OB value (0025,101B) as a BulkDataURI (seen on Orthanc 1.x's DICOMweb plugin: the element
comes as {"BulkDataURI": ".../instances/UID/bulk/0025101b", "vr": "OB"}, beside "00250010": "GEMS_SERS_01"). DICOM
JSON (PS3.18 F.2.7: a binary value is InlineBinary, base64, or a BulkDataURI) is decoded by pydicom's
Dataset.from_json, which keeps the private creator elements.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pydicom
import pytest
from click.testing import CliRunner
from pydicom.uid import generate_uid

from ofsep_presets import pull
from ofsep_presets.cli import main
from ofsep_presets.readers import dicom_protocol, ge_dicom_protocol, inspect_path

from .dicom_study import Study, fixture_files, read
from .support import DICOMWEB_PLUGIN, ORTHANC, orthanc
from .test_ge_dicom_protocol import DWI, LOCALIZER, T1, set_key
from .test_listen import check_json, essential

STUDY_UID = "1.2.826.0.1.3680043.8.498.20261202.1"
SIEMENS_VE11 = "Siemens/VE11_PD_T2_tse_sag_1.8mm"
SIEMENS_XA30 = "Siemens/XA30_enh_DWI_dir80_PA"
PHILIPS = "Philips/ElitionX_enh_T1W_TSE_2D"
PHILIPS_INGENIA = "Philips/Ingenia_classic_DTI_Biobank_2mm_full"
pytestmark = [
    pytest.mark.skipif(ORTHANC is None, reason="Orthanc is not installed"),
    pytest.mark.skipif(not DICOMWEB_PLUGIN.exists(), reason="Debian's orthanc-dicomweb is not installed"),
]


def _no_region(ds, i):
    for keyword in ("ReceiveCoilName", "AnatomicRegionSequence"):
        if keyword in ds:
            del ds[keyword]


def _csa_in_block_11(ds, i):
    """Swap the blocks of group 0029: CSA at (0029,0011) with its elements at (0029,11xx), MEDCOM HEADER2 at
    (0029,0010)/(0029,10xx), as in a header where another creator took the first block (PS3.5 7.8.1: a creator
    reserves any free block 10-FF, its elements follow it)."""
    elements = [e for e in ds if e.tag.group == 0x0029]
    for e in elements:
        del ds[e.tag]
    for e in elements:
        number = e.tag.element
        if number in (0x10, 0x11):
            number = 0x21 - number
        elif 0x1000 <= number < 0x1200:
            number = ((0x21 - (number >> 8)) << 8) | (number & 0xFF)
        ds.add_new((0x0029, number), e.VR, e.value)


def _post_contrast(ds, i):
    _no_region(ds, i)
    set_key("CONTRAST", "Yes")(ds, i)


@pytest.fixture(scope="module")
def ge(tmp_path_factory):
    root = tmp_path_factory.mktemp("ge")
    study = Study(root / "files" / "pioneer", STUDY_UID)
    t1 = read(fixture_files(T1)[0])
    one = {"PatientID": "GE-PULL", "PatientName": "GE^PULL"}  # one patient: a PACS files a study under its patient
    study.add(T1, t1.SeriesNumber, edit=_no_region, **one)
    study.add(DWI, read(fixture_files(DWI)[0]).SeriesNumber, edit=_no_region, **one)
    study.add(T1, 9, t1.SeriesDescription, AcquisitionTime="004500", edit=_post_contrast, **one)
    # The localizer is another scanner's (SIGNA Premier), its own study as on the PACS.
    Study(root / "files" / "premier").add(LOCALIZER, 2, edit=_no_region)
    localizer_study = str(read(fixture_files(LOCALIZER)[0]).StudyInstanceUID)
    # Siemens, each its own study as the scanner wrote it: a VE11 series (CSA series and image headers, (0029,1020)
    # and (0029,1010)) and an XA30 enhanced DWI (MrPhoenixProtocol in (0021,1019) nested in the shared functional
    # groups' (0021,10FE) item): both sent as BulkDataURIs by Orthanc.
    siemens = {}
    for folder, series in (("ve11", SIEMENS_VE11), ("xa30", SIEMENS_XA30)):
        Study(root / "files" / folder).add(series, read(fixture_files(series)[0]).SeriesNumber)
        siemens[folder] = str(read(fixture_files(series)[0]).StudyInstanceUID)
    # Philips: an Elition X enhanced series with its protocol object (Raw Data Storage, its tables in (2005,1044)
    # of the (2005,1032) items, each sent as a BulkDataURI), as copied files in their own folder (not a study of
    # the GE/Siemens comparison above: read by the next test).
    # And an Ingenia DTI's protocol object (its creator at (2005,0011), the tables at (2005,1144)) with two images.
    philips = {}
    for folder, series, images in (("elition", PHILIPS, 99), ("ingenia", PHILIPS_INGENIA, 2)):
        philips[folder] = root / "philips" / folder
        philips[folder].mkdir(parents=True)
        kept = [f for f in fixture_files(series) if read(f).SOPClassUID.startswith("1.3.46.670589.11.0.0.12")]
        kept += [f for f in fixture_files(series) if f not in kept][:images]
        for i, f in enumerate(kept):
            read(f).save_as(philips[folder] / f"{i:04d}.dcm")
    # Two more, for the bulk tests below (not of the comparisons above): the VE11 series with its CSA block at
    # (0029,0011) (the CSA series header at (0029,1120)), and the Elition X protocol object holding 70 tables.
    extra = {"csa11": root / "extra" / "csa11", "philips70": root / "extra" / "philips70"}
    Study(extra["csa11"], generate_uid(entropy_srcs=["csa11"])).add(SIEMENS_VE11, 77, edit=_csa_in_block_11)
    extra["philips70"].mkdir(parents=True)
    # The Elition X series' protocol object (Raw Data Storage; its file name is 0001_Raw.dcm).
    raw = next(ds for ds in map(read, fixture_files(PHILIPS)) if ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66")
    tables = raw.private_block(0x2005, dicom_protocol.CREATOR)[0x32].value
    while len(tables) < 70:
        tables.append(copy.deepcopy(tables[-1]))  # the last: HARDWARE_CONFIG, 58 bytes
    raw.StudyInstanceUID = generate_uid(entropy_srcs=["philips70"])
    raw.SeriesInstanceUID = generate_uid(entropy_srcs=["philips70", "series"])
    raw.SOPInstanceUID = raw.file_meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=["philips70", "sop"])
    raw.save_as(extra["philips70"] / "0000.dcm")
    stored = [f for folder in ("files", "philips", "extra") for f in sorted((root / folder).rglob("*.dcm"))]
    with orthanc(root / "pacs", stored, Name="ge-pacs") as pacs:
        http, dicom = pacs["http"], pacs["dicom"]
        yield {
            "files": root / "files",
            "studies": [
                (
                    root / "files" / folder,
                    f"dicomweb://127.0.0.1:{http}/dicom-web/studies/{uid}",
                    f"pacs://ORTHANC@127.0.0.1:{dicom}/{uid}",
                )
                for folder, uid in (("pioneer", STUDY_UID), ("premier", localizer_study), *siemens.items())
            ],
            "url": pacs["url"],
            "root": root,
            "philips": (philips, f"http://127.0.0.1:{http}"),
            "extra": {
                name: (folder, str(read(next(folder.rglob("*.dcm"))).StudyInstanceUID))
                for name, folder in extra.items()
            },
        }


def _read(refs, tmp: Path):
    """(series number -> acquisition, warnings) of one way of reading the studies."""
    docs, said = [], []
    for i, ref in enumerate(refs):
        if isinstance(ref, Path):
            docs += inspect_path(ref)
        else:
            remote = pull.fetch(ref, tmp / f"spool{i}")
            docs += inspect_path(tmp / f"spool{i}")
            said += getattr(remote, "warnings", ())
    acqs = {a.params["series_number"]: a for d in docs for a in d.acquisitions}
    return acqs, [w for d in docs for w in d.warnings] + said


def _plain(acq) -> tuple:
    """What does not depend on the way the study was read: values, context (no file path), and which values the
    GE series protocol gave (provenance naming (0025,101B)); the file names in provenance differ by path."""
    context = {k: v for k, v in acq.context.items() if k != "source"}
    from_block = sorted(k for k, v in acq.provenance.items() if "(0025,101B)" in v)
    said = {k: re.sub(r"[^\s;]+\.dcm\b", "FILE", v) for k, v in acq.provenance.items() if "(0025,101B)" in v}
    return acq.name, acq.params, context, from_block, said


def test_files_pacs_and_dicomweb_give_the_same_ge_acquisitions(ge, tmp_path):
    files, files_said = _read([ge["files"]], tmp_path / "f")
    # The protocol-only values are there on the files (what test_ge_dicom_protocol checks): coil and anatomy
    # (the images' tags emptied), CONTRAST "Yes" on the repeated MP-RAGE.
    ge_series = [a for a in files.values() if a.params["manufacturer"] == "ge"]
    assert len(ge_series) == 4 and {a.context.get("coil") for a in ge_series} == {"48HA", "20MM"}
    assert all(a.context.get("anatomy") == "T-A0100" for a in ge_series)
    # Siemens values only its bulk headers state: phase-encoding polarity (CSA image header), the XA protocol's
    # 20 prescribed directions (2 present: test_inspect_dicom).
    siemens = [a for a in files.values() if a.params["manufacturer"] == "siemens"]
    assert len(siemens) == 2 and all(a.params.get("phase_encoding_direction") for a in siemens)
    assert any(a.params.get("diffusion_directions") == 20 for a in siemens)
    assert files[9].params["contrast_agent"] is True and "CONTRAST=Yes" in files[9].provenance["contrast_agent"]
    for way in (1, 2):
        acqs, said = _read([study[way] for study in ge["studies"]], tmp_path / str(way))
        assert sorted(acqs) == sorted(files), way
        for number, acq in files.items():
            assert _plain(acqs[number]) == _plain(acq), (way, number)
        assert sorted(said) == sorted(files_said), way


def test_files_pacs_and_dicomweb_give_the_same_ge_check_decisions(ge):
    for folder, web, pacs in ge["studies"]:
        on_disk = essential(check_json(str(folder)))
        matched = {seq: series for seq, _, series, _ in on_disk["sequences"] if series}
        if folder.name == "pioneer":  # the repeated MP-RAGE is post-contrast by its protocol's CONTRAST "Yes" only
            assert matched["brain.t1_3d_gd"].startswith("9 ") and matched["brain.t1_3d"].startswith("5 ")
        assert essential(check_json(pacs)) == on_disk, pacs
        assert essential(check_json(web)) == on_disk, web


def _metadata(ge, uid: str = STUDY_UID) -> list[dict]:
    with urllib.request.urlopen(f"{ge['url']}/dicom-web/studies/{uid}/metadata", timeout=30) as answer:
        return json.loads(answer.read())


@contextlib.contextmanager
def _dicomweb(metadata: list[dict], bulk: Callable[[http.server.BaseHTTPRequestHandler], None]) -> Iterator[str]:
    """A DICOMweb server on loopback that answers a study's metadata with `metadata` (DICOM JSON, as Orthanc gave
    it, edited by the test) and every other request by `bulk(request)`: for what Orthanc cannot be made to do. Gives
    the server's http://HOST:PORT."""
    body = json.dumps(metadata).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            if self.path.endswith("/metadata"):
                self.send_response(200)
                self.send_header("Content-Type", "application/dicom+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                bulk(self)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _proxy(orthanc: str) -> Callable[[http.server.BaseHTTPRequestHandler], None]:
    """Answer a bulk request with Orthanc's own answer to it (status, type and bytes)."""

    def answer(request: http.server.BaseHTTPRequestHandler) -> None:
        ask = urllib.request.Request(orthanc + request.path, headers={"Accept": request.headers.get("Accept", "*/*")})
        with urllib.request.urlopen(ask, timeout=30) as got:
            data = got.read()
            request.send_response(got.status)
            request.send_header("Content-Type", got.headers["Content-Type"])
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    return answer


def test_an_inline_binary_series_protocol_is_read_and_a_private_creator_is_honoured(ge):
    """A server may send a binary value inline (PS3.18 F.2.7 InlineBinary, base64): it is the same value. The same
    element number in a block of another creator is not GE's series protocol: it is never fetched."""
    [item] = [i for i in _metadata(ge) if i["00200011"]["Value"] == [9]][:1]
    header = read(fixture_files(T1)[0])
    truth = ge_dicom_protocol.blob_of(
        read(next(p for p in sorted(ge["files"].rglob("*.dcm")) if read(p).SeriesNumber == 9))
    )
    assert truth and truth != ge_dicom_protocol.blob_of(header)  # the edited (CONTRAST "Yes") block
    inline = copy.deepcopy(item)
    inline["0025101B"] = {"vr": "OB", "InlineBinary": base64.b64encode(truth).decode()}

    def never(tag, vr, uri):
        raise AssertionError(f"asked for {tag}")

    ds, _ = pull.instance_file(inline, lambda tag, vr, uri: b"" if tag.upper() != "0025101B" else never(tag, vr, uri))
    assert ge_dicom_protocol.blob_of(ds) == truth
    assert pull._wanted("0025101B", item) == ("(0025,101B) GE series protocol", ge_dicom_protocol.MAX_BLOB)
    other = copy.deepcopy(item)
    other["00250010"]["Value"] = ["SOME_OTHER_CREATOR"]
    assert pull._wanted("0025101B", other) is None
    assert pull._wanted("7FE00010", item) is None and pull._wanted("00431029", item) is None  # never images


def test_a_server_refusing_bulk_data_still_gives_the_headers_with_a_warning(ge, tmp_path):
    """A DICOMweb server that answers the metadata but refuses every bulk value (HTTP 403): the headers are read,
    the series protocol's values are absent (never guessed), and the report says what was left out."""
    with _dicomweb(_metadata(ge), lambda request: request.send_error(403)) as server:
        ref = f"dicomweb://{server.split('://')[1]}/dicom-web/studies/{STUDY_UID}"
        acqs, said = _read([ref], tmp_path)
        reported = check_json(ref)["warnings"]  # the report says it too
    files, _ = _read([ge["studies"][0][0]], tmp_path / "f")
    assert sorted(acqs) == sorted(files)
    for number, acq in acqs.items():
        assert acq.params["echo_time_ms"] == files[number].params["echo_time_ms"]  # the headers read
        assert "coil" not in acq.context and not any("(0025,101B)" in v for v in acq.provenance.values())
    assert acqs[9].params.get("contrast_agent") is not True
    refused = [w for w in said if "(0025,101B) GE series protocol" in w and "did not give" in w]
    assert len(refused) == len(files)  # once per series
    assert sorted(w for w in reported if "did not give" in w) == sorted(w for w in said if "did not give" in w)


@pytest.mark.parametrize("which", ["elition", "ingenia"])
def test_a_philips_protocol_object_reads_the_same_by_dicomweb(ge, tmp_path, which):
    """A Philips protocol object's tables come as BulkDataURIs: without them it was "without a readable protocol
    table" by DICOMweb while its file reads (test_inspect_dicom / the Philips DICOM protocol tests)."""
    folders, url = ge["philips"]
    folder = folders[which]
    uid = str(read(sorted(folder.glob("*.dcm"))[0]).StudyInstanceUID)

    def plain(docs):
        return sorted(
            (d.format, a.name, sorted((k, repr(v)) for k, v in a.params.items())) for d in docs for a in d.acquisitions
        )

    def said(docs):
        return sorted(re.sub(r"\S+\.dcm\b", "FILE", w) for d in docs for w in d.warnings)

    on_disk = inspect_path(folder)
    assert any("embedded protocol vs images" in w for w in said(on_disk))  # the protocol object was read
    remote = pull.fetch(f"dicomweb://{url.split('://')[1]}/dicom-web/studies/{uid}", tmp_path / "spool")
    pulled = inspect_path(tmp_path / "spool")
    assert plain(pulled) == plain(on_disk) and said(pulled) == said(on_disk) and not remote.warnings


def test_warnings_of_a_refused_bulk_value_name_no_uid_and_no_url(ge, tmp_path):
    """Warnings go into reports meant to be shared: a server failing every bulk request (HTTP 500, whose error text
    carries the request URL: host, study, series and instance UIDs) is reported by status only, and a series by
    its number: never its SeriesInstanceUID (where it has no description), nor its description (operator text,
    which a --shareable report replaces by "series N": a warning quoting it kept it)."""
    items = _metadata(ge)
    for item in items:
        if item["00200011"]["Value"] == [9]:
            item["0008103E"] = {"vr": "LO"}  # no description: the label must not fall back to the series UID
    uids = {
        str(v)
        for item in items
        for tag in ("0020000D", "0020000E", "00080018")
        for v in (item.get(tag) or {}).get("Value") or []
    }
    descriptions = {str(v) for item in items for v in (item.get("0008103E") or {}).get("Value") or []}
    assert descriptions  # the other series have theirs
    with _dicomweb(items, lambda request: request.send_error(500)) as server:
        port = server.rsplit(":", 1)[1]
        remote = pull.fetch(f"dicomweb://127.0.0.1:{port}/dicom-web/studies/{STUDY_UID}", tmp_path / "spool")
    refused = [w for w in remote.warnings if "did not give" in w]
    assert len([w for w in refused if "(0025,101B)" in w]) == 3  # one per GE series, each by its status
    assert all("HTTP 500" in w for w in refused), refused
    assert any(w.startswith("series 9: ") for w in refused), refused
    for w in remote.warnings:
        assert not any(uid in w for uid in uids) and not any(d in w for d in descriptions), w
        assert "://" not in w and "/studies/" not in w and "127.0.0.1" not in w and str(port) not in w, w


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_a_shareable_report_of_a_pull_keeps_no_series_description(ge, tmp_path, fmt):
    """Operators type patient names into series descriptions, which PS3.15's basic profile removes: a pull whose
    bulk values fail (each failure is warned per series) and whose series are described "DOE^JOHN ..." gives a
    `check --shareable` report, and warnings, that never hold the description; the series is "series N"."""
    items = _metadata(ge)
    for item in items:
        item["0008103E"] = {"vr": "LO", "Value": [f"DOE^JOHN_19700101 {item['00200011']['Value'][0]}"]}
    with _dicomweb(items, lambda request: request.send_error(500)) as server:
        port = server.rsplit(":", 1)[1]
        url = f"dicomweb://127.0.0.1:{port}/dicom-web/studies/{STUDY_UID}"
        remote = pull.fetch(url, tmp_path / "spool")
        shared = CliRunner().invoke(main, ["check", "--one-exam", "--shareable", "--format", fmt, url])
    assert any(w.startswith("series 9: the server did not give") for w in remote.warnings), remote.warnings
    assert not any("DOE" in w or "JOHN" in w for w in remote.warnings), remote.warnings
    assert shared.exit_code in (0, 1), shared.output
    assert "did not give" in shared.stdout  # the warnings are in the report
    assert "DOE" not in shared.stdout and "JOHN" not in shared.stdout and "19700101" not in shared.stdout


def _web(ge, uid: str) -> str:
    return f"dicomweb://{ge['url'].split('://')[1]}/dicom-web/studies/{uid}"


def _study(ge, name: str) -> tuple[Path, str]:
    """(folder on disk, study UID) of one study of the comparison by its folder's name."""
    [(folder, web)] = [(folder, web) for folder, web, _ in ge["studies"] if folder.name == name]
    return folder, web.rsplit("/", 1)[1]


def test_a_csa_series_header_at_0029_1120_reads_by_dicomweb_as_on_disk(ge, tmp_path):
    """A CSA block in the second private block (creator "SIEMENS CSA HEADER" at (0029,0011)): the reader reads its
    series header at (0029,1120); by DICOMweb it is fetched there too (it was untested). Truth: the file on disk,
    whose protocol (sSliceArray.lSize) states 35 slices where 4 images are stored."""
    folder, uid = ge["extra"]["csa11"]
    files, files_said = _read([folder], tmp_path / "f")
    pulled, said = _read([_web(ge, uid)], tmp_path / "w")
    [acq] = files.values()
    assert acq.params["slices"] == 35 and "ASCCONV" in acq.provenance["slices"], acq.provenance.get("slices")
    assert sorted(pulled) == sorted(files) and _plain(pulled[77]) == _plain(acq)
    assert sorted(said) == sorted(files_said)


def test_a_private_bulk_value_in_another_creators_block_is_never_fetched(ge):
    """Each Siemens and GE bulk value counts only in the block its creator names, as GE's series protocol already
    did and as the reader finds it: the same element number under another creator is another vendor's value, the
    creator's block elsewhere holds it. The creators are the fixtures'
    (Orthanc's JSON of them): "SIEMENS CSA HEADER" (VE11), "SIEMENS MR SDS 01" (XA30, in the nested item of the
    shared functional groups), "GEMS_PARM_01" (the SIGNA Premier)."""
    [ve11] = _metadata(ge, _study(ge, "ve11")[1])[:1]
    [premier] = _metadata(ge, _study(ge, "premier")[1])[:1]
    [xa30] = _metadata(ge, _study(ge, "xa30")[1])[:1]
    for item, tags, creator in ((ve11, ("00291020", "00291010"), "00290010"), (premier, ("0043102A",), "00430010")):
        assert all(pull._wanted(tag, item) for tag in tags)
        other = copy.deepcopy(item)
        other[creator]["Value"] = ["ANOTHER VENDOR 01"]
        assert [pull._wanted(tag, other) for tag in tags] == [None] * len(tags)
        # The creator's block moved to xx = 0x11 (as the reader reads it, readers/dicom_private.py): found there.
        moved = copy.deepcopy(other)
        moved[f"{creator[:4]}0011"] = {"vr": "LO", "Value": [item[creator]["Value"][0]]}
        for tag in tags:
            moved[f"{tag[:4]}11{tag[6:]}"] = moved.pop(tag)
        assert all(pull._wanted(f"{tag[:4]}11{tag[6:]}", moved) for tag in tags)
    nested = [where for _, where in pull._plan(xa30).values()]
    assert nested == ["52009229/0/002110FE/0/00211019"]
    other = copy.deepcopy(xa30)
    other["52009229"]["Value"][0]["002110FE"]["Value"][0]["00210010"]["Value"] = ["ANOTHER VENDOR 01"]
    assert pull._plan(other) == {}


def test_bulk_values_past_the_pull_budget_are_left_out_with_one_warning(ge, tmp_path, monkeypatch):
    """Limit pull_bulk_bytes bounds all the bulk values of one pull (what its series cache can hold): past it they
    are left out, with one warning naming the limit and how to raise it, and the headers still read."""
    folder, uid = _study(ge, "pioneer")
    files, _ = _read([folder], tmp_path / "f")
    monkeypatch.setenv("OFSEP_PRESETS_LIMIT_PULL_BULK_BYTES", "1")
    acqs, said = _read([_web(ge, uid)], tmp_path / "w")
    assert sorted(acqs) == sorted(files)
    for number, acq in acqs.items():
        assert acq.params["echo_time_ms"] == files[number].params["echo_time_ms"]  # the headers read
        assert not any("(0025,101B)" in v for v in acq.provenance.values())  # the series protocols left out
    [budget] = [w for w in said if "pull_bulk_bytes" in w]
    assert "OFSEP_PRESETS_LIMIT_PULL_BULK_BYTES=N" in budget and not any("did not give" in w for w in said)


def _tables(ds) -> list[bytes]:
    """A Philips protocol object's tables, as dicom_protocol finds them (blocks by their creator)."""
    items = ds.private_block(0x2005, dicom_protocol.CREATOR)[0x32].value
    return [bytes(item.private_block(0x2005, dicom_protocol.CREATOR)[0x44].value or b"") for item in items]


def test_a_philips_protocol_objects_tables_are_fetched_each_once_and_never_cached(ge):
    """A Philips object's tables are its own: fetched (the bytes of the file), counted in the pull's budget, and
    never kept in the series cache (which holds values shared by a series' instances)."""
    folders, url = ge["philips"]
    raw = "1.2.840.10008.5.1.4.1.1.66"  # Raw Data Storage: the Elition X protocol object
    on_disk = next(ds for ds in map(read, sorted(folders["elition"].glob("*.dcm"))) if ds.SOPClassUID == raw)
    items = _metadata(ge, str(on_disk.StudyInstanceUID))
    [item] = [i for i in items if i["00080016"]["Value"] == [raw]]
    bulk = pull._BulkFetch(f"{url}/dicom-web", url, "test", 30, said := [])
    ds, _ = pull.instance_file(item, bulk.handler(item))
    assert _tables(ds) == _tables(on_disk) and len(_tables(ds)) == 11
    assert bulk.spent == sum(map(len, _tables(on_disk))) and bulk.cache == {} and said == []


def test_a_philips_object_with_more_tables_than_fetched_says_so_once(ge, tmp_path):
    """Tables past the 64th (PHILIPS_TABLES_MAX) of one object are left out with one warning, not silently."""
    folder, uid = ge["extra"]["philips70"]
    ds = read(next(folder.glob("*.dcm")))
    on_disk = _tables(ds)
    assert len(on_disk) == 70
    remote = pull.fetch(_web(ge, uid), tmp_path / "spool")
    [spooled] = list((tmp_path / "spool").rglob("*.dcm"))
    got = _tables(pydicom.dcmread(spooled))
    assert got[:64] == on_disk[:64] and got[64:] == [b""] * 6
    assert [w for w in remote.warnings if "tables" in w] == [
        f"series {ds.SeriesNumber}: a Philips protocol object with 70 tables: the first 64 were fetched, the others "
        "left out"
    ]


def test_instances_without_a_series_uid_keep_each_their_own_bulk_values(ge, tmp_path):
    """A series value is fetched once per series and given to its other instances; instances that state no
    SeriesInstanceUID share none (they were all one series, keyed ""). Orthanc files every instance under its
    series, so its answers are served here with the series UIDs removed, each bulk request answered by Orthanc.
    Truth: each image's own CSA image header (0029,1010), which differs between the VE11 images."""
    folder, uid = _study(ge, "ve11")
    items = _metadata(ge, uid)
    for i, item in enumerate(items):
        del item["0020000E"]
        item["00200011"]["Value"] = [100 + i]  # each its own series
    truth = {str(read(f).SOPInstanceUID): read(f)[0x0029, 0x1010].value for f in folder.rglob("*.dcm")}
    assert len(items) == len(truth) >= 2 and len(set(truth.values())) == len(truth)
    with _dicomweb(items, _proxy(ge["url"])) as server:
        remote = pull.fetch(f"dicomweb://{server.split('://')[1]}/dicom-web/studies/{uid}", tmp_path / "spool")
    spooled = [pydicom.dcmread(f) for f in (tmp_path / "spool").rglob("*.dcm")]
    assert {str(ds.SOPInstanceUID): ds[0x0029, 0x1010].value for ds in spooled} == truth
    assert not remote.warnings


def test_a_server_trickling_a_bulk_value_is_refused_when_the_pulls_time_has_passed(ge, tmp_path):
    """A server that answers the metadata at once but a bulk value a byte every 0.1 s (each read within any
    timeout; the whole 2,000 bytes in 200 s): `check` refuses the pull once limit pull_seconds (3 s here) has
    passed, in one line naming the limit and how to raise it, instead of never ending."""

    def trickle(request: http.server.BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "multipart/related; type=application/octet-stream; boundary=b")
        request.send_header("Content-Length", "2000")
        request.end_headers()
        try:
            for _ in range(2000):
                request.wfile.write(b"-")
                time.sleep(0.1)
        except OSError:
            pass  # the client gave up

    _, uid = _study(ge, "ve11")
    with _dicomweb(_metadata(ge, uid), trickle) as server:
        start = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "ofsep_presets", "check", f"dicomweb://{server.split('://')[1]}/studies/{uid}"],
            capture_output=True,
            text=True,
            timeout=90,
            env={**os.environ, "OFSEP_PRESETS_LIMIT_PULL_SECONDS": "3"},
        )
        took = time.monotonic() - start
    assert proc.returncode == 2, proc.stderr
    assert "pull_seconds" in proc.stderr and "OFSEP_PRESETS_LIMIT_PULL_SECONDS=N" in proc.stderr
    assert "Traceback" not in proc.stderr and took < 20  # nor retried: dicomweb-client slept 30 s between tries
