"""Fetch a study from a PACS for `check`: `pacs://AET@host:port/STUDY_UID` (C-GET) and `dicomweb://…` (WADO-RS).

Both land in a spool folder (spool.py: safe names, atomic, bounded) that `check` then reads like any DICOM folder,
so a pulled study is checked exactly as the same files on disk. DICOMweb asks for the study's *metadata* only
(headers as DICOM JSON, no pixel data), and per series the few bulk values a protocol check reads that the headers
leave out (SERIES_BULK: the Siemens CSA series header, GE's series protocol and user data), each bounded. That is
everything a protocol check reads. Networking is
pynetdicom's and dicomweb-client's; nothing here speaks a protocol by hand.

URL forms:
  pacs://PEER_AET@HOST:PORT/STUDY_UID[?aet=OUR_AET]
  dicomweb://HOST:PORT/BASE/PATH/studies/STUDY_UID     (dicomwebs:// for HTTPS)
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from . import limits
from .errors import OfsepError
from .limits import LimitError
from .readers import dicom_protocol, ge_dicom_protocol
from .spool import Spool, SpoolFull

if TYPE_CHECKING:
    import requests

SCHEMES = ("pacs://", "dicomweb://", "dicomwebs://")
DEFAULT_AET = "OFSEP-PRESETS"
# What a dummy run holds, asked for by C-GET (a requestor may offer at most 128 presentation contexts).
GET_SOP_CLASSES = (
    "1.2.840.10008.5.1.4.1.1.4",  # MR Image Storage
    "1.2.840.10008.5.1.4.1.1.4.1",  # Enhanced MR Image Storage
    "1.2.840.10008.5.1.4.1.1.4.3",  # Enhanced MR Color Image Storage
    "1.2.840.10008.5.1.4.1.1.4.4",  # Legacy Converted Enhanced MR Image Storage
    "1.2.840.10008.5.1.4.1.1.4.2",  # MR Spectroscopy Storage
    "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture Image Storage
    "1.2.840.10008.5.1.4.1.1.11.1",  # Grayscale Softcopy Presentation State Storage
    "1.2.840.10008.5.1.4.1.1.88.11",  # Basic Text SR
    "1.2.840.10008.5.1.4.1.1.88.22",  # Enhanced SR
    "1.2.840.10008.5.1.4.1.1.88.33",  # Comprehensive SR
    "1.2.840.10008.5.1.4.1.1.66",  # Raw Data Storage
    "1.3.12.2.1107.5.9.1",  # Siemens CSA Non-Image Storage (protocol objects of a dummy run)
)


class PullError(OfsepError):
    """The study could not be fetched: the message names the peer and what it said."""


def is_remote(ref: str) -> bool:
    return ref.lower().startswith(SCHEMES)


@dataclass(frozen=True)
class Remote:
    scheme: str
    host: str
    port: int
    study: str
    peer_aet: str = ""
    our_aet: str = DEFAULT_AET
    base: str = ""
    warnings: tuple[str, ...] = ()  # what the pull left out (a bulk value the server would not give)

    @property
    def label(self) -> str:
        """The URL without credentials or query, as the report names its source."""
        if self.scheme == "pacs":
            return f"pacs://{self.peer_aet}@{self.host}:{self.port}/{self.study}"
        return f"{self.scheme}://{self.host}:{self.port}{self.base}/studies/{self.study}"


def parse(ref: str) -> Remote:
    parts = urlsplit(ref)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if scheme == "pacs":
        study = parts.path.strip("/")
        if not parts.username or not parts.hostname or not port or not study:
            raise PullError(f"{ref!r}: write pacs://PEER_AET@HOST:PORT/STUDY_INSTANCE_UID")
        ours = parse_qs(parts.query).get("aet", [DEFAULT_AET])[0]
        return Remote("pacs", parts.hostname, port, study, parts.username, ours)
    path = parts.path.rstrip("/")
    base, sep, study = path.rpartition("/studies/")
    if not parts.hostname or not sep or not study or "/" in study:
        raise PullError(f"{ref!r}: write {scheme}://HOST:PORT/BASE/studies/STUDY_INSTANCE_UID")
    return Remote(scheme, parts.hostname, port or (443 if scheme == "dicomwebs" else 80), study, base=base)


def fetch(ref: str, dest: Path, timeout: float = 120.0) -> Remote:
    """Fetch the study `ref` names into the spool folder `dest`; returns what was fetched."""
    remote = parse(ref)
    spool = Spool(dest)
    said: list[str] = []
    pulled = _c_get(remote, spool, timeout) if remote.scheme == "pacs" else None
    count = pulled if pulled is not None else _wado_metadata(remote, spool, timeout, said)
    if count == 0:
        raise PullError(f"{remote.label}: the peer sent no instance of that study")
    return replace(remote, warnings=tuple(said))


def _c_get(remote: Remote, spool: Spool, timeout: float) -> int:
    from pydicom.dataset import Dataset
    from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, build_role, evt
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelGet

    ae = AE(ae_title=remote.our_aet)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
    for uid in GET_SOP_CLASSES:
        ae.add_requested_context(uid, ALL_TRANSFER_SYNTAXES[:6])
    roles = [build_role(uid, scp_role=True) for uid in GET_SOP_CLASSES]
    stored = [0]

    def store(event) -> int:
        ds = event.dataset
        try:
            spool.store(
                ds.get("StudyInstanceUID"),
                ds.get("SeriesInstanceUID"),
                event.request.AffectedSOPInstanceUID,
                event.encoded_dataset(include_meta=True),
            )
        except SpoolFull:
            return 0xA700
        stored[0] += 1
        return 0x0000

    assoc = ae.associate(
        remote.host, remote.port, ae_title=remote.peer_aet, ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, store)]
    )
    if not assoc.is_established:
        raise PullError(f"{remote.label}: the PACS did not accept an association from {remote.our_aet}")
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = remote.study
    failure = None
    try:
        for status, _ in assoc.send_c_get(query, StudyRootQueryRetrieveInformationModelGet):
            if status is None:
                failure = "no answer (timeout)"
            elif status.Status not in (0x0000, 0xFF00, 0xFF01) and not 0xB000 <= status.Status <= 0xBFFF:
                failure = f"C-GET status 0x{status.Status:04X}"
    finally:
        assoc.release()
    if failure and not stored[0]:
        raise PullError(f"{remote.label}: {failure}")
    return stored[0]


def _wado_metadata(remote: Remote, spool: Spool, timeout: float, said: list[str]) -> int:
    try:
        import requests
        from dicomweb_client.api import DICOMwebClient
    except ImportError:
        raise PullError("dicomweb:// needs dicomweb-client: pip install 'ofsep-presets[pacs]'") from None

    http = "https" if remote.scheme == "dicomwebs" else "http"
    url = f"{http}://{remote.host}:{remote.port}{remote.base}"
    client = DICOMwebClient(url=url, session=_bounded_session(remote.label), timeout=timeout)
    bulk = {
        cap: DICOMwebClient(url=url, session=_bounded_session(remote.label, cap), timeout=timeout)
        for cap in sorted({cap for _, cap, _ in SERIES_BULK.values()})
    }
    try:
        metadata = client.retrieve_study_metadata(remote.study)
    except requests.RequestException as error:
        raise PullError(f"{remote.label}: {error}") from None
    except LimitError as error:
        raise PullError(str(error)) from None
    count = 0
    series_values: dict[str, bytes] = {}
    for item in metadata:
        handler = _bulk_data_handler(bulk, item, series_values, f"{http}://{remote.host}:{remote.port}", said)
        ds, encoded = instance_file(item, handler)
        try:
            spool.store(ds.get("StudyInstanceUID"), ds.get("SeriesInstanceUID"), ds.get("SOPInstanceUID"), encoded)
        except SpoolFull as full:
            raise PullError(f"{remote.label}: {full}") from None
        count += 1
    return count


def instance_file(item: dict, handler):
    """One instance's DICOM JSON as a DICOM file (headers only: pixel data removed), and its dataset. Private
    creators come with the JSON (Dataset.from_json keeps them), so a private block is found by its creator as in
    the image file; an InlineBinary value is decoded by pydicom, a BulkDataURI is asked of `handler`."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    ds = Dataset.from_json(item, bulk_data_uri_handler=handler)
    for keyword in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"):
        if keyword in ds:
            del ds[keyword]
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.get("SOPClassUID", "1.2.840.10008.5.1.4.1.1.4")
    meta.MediaStorageSOPInstanceUID = ds.get("SOPInstanceUID", "")
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return ds, buffer.getvalue()


def _bounded_session(label: str, cap: int | None = None) -> requests.Session:
    """A requests session whose every answer is read by a hook, at most `cap` bytes of it (default: limit
    `read_bytes`, the bound every reader works under), so a server answering with gigabytes of study metadata,
    or a bulk value of any size, is refused while it arrives, not after it filled memory. requests runs response
    hooks before it reads a body that was not streamed (Session.send), so the hook sees the raw stream; it leaves
    the body as requests would (`content`), and dicomweb-client parses it unchanged."""

    import requests

    def hook(response, *args, **kwargs):
        bound = cap if cap is not None else limits.get("read_bytes")
        stated = response.headers.get("Content-Length", "")
        if stated.isdigit() and int(stated) > bound:
            response.close()
            raise _past(label, bound, int(stated))
        if getattr(response, "_content_consumed", False):
            return response  # already read (a streamed or cached response): nothing to bound here
        body = bytearray()
        for chunk in response.raw.stream(2**16, decode_content=True):
            body += chunk
            if len(body) > bound:
                response.close()
                raise _past(label, bound, len(body))
        response._content = bytes(body)
        response._content_consumed = True
        return response

    session = requests.Session()
    session.hooks["response"].append(hook)
    return session


def _past(label: str, bound: int, amount: int) -> LimitError:
    if bound == limits.get("read_bytes"):
        return limits.refusal("read_bytes", f"{label}: the server's answer", amount)
    return LimitError(f"{label}: a bulk value of {amount:,}+ bytes, past {bound:,}: left out")


# Bulk data worth one request per series: the values the DICOM reader takes from a series' representative image
# that a DICOMweb server sends as BulkDataURI (binary VRs), each found as the reader finds it (readers/dicom.py,
# readers/ge_dicom_protocol.py):
#  - Siemens CSA series header (0029,1020) or (0029,1120): the protocol (MrPhoenixProtocol: slices, PAT...);
#  - Siemens CSA image header (0029,1010): PhaseEncodingDirectionPositive (VB/VE phase-encoding polarity);
#  - Siemens XA MrPhoenixProtocol (0021,1019), top level (classic) or nested in the shared functional groups'
#    (0021,10FE) item (enhanced);
#  - GE's series protocol (0025,xx1B) of the block whose creator (0025,00xx) is GEMS_SERS_01 (contrast, plane,
#    coil, anatomy...), capped as that reader caps it;
#  - GE's user data (0043,102A) (GE_USER_DATA: an EPI's phase-encoding polarity; ~7 KB).
# Each is fetched for the first image of a series and given to the others: the reader reads these from one image
# per series (the per-image parts of a CSA image header or GE user data are read by nothing). Every other bulk
# value (pixels, GE's histogram...) stays empty: a metadata pull never fetches images.
# tag -> (what it is, cap in bytes, private creator the block must have or None for the fixed tag the reader reads).
SERIES_BULK_MAX = 4 * 2**20  # bytes: a CSA series header is tens of kilobytes, an XA protocol hundreds
IMAGE_HEADER_MAX = 2**20  # bytes: a CSA image header or GE's user data is kilobytes (GE fixtures': 7,480)
SERIES_BULK = {
    "00291020": ("(0029,1020) Siemens CSA series header", SERIES_BULK_MAX, None),
    "00291120": ("(0029,1120) Siemens CSA series header", SERIES_BULK_MAX, None),
    "00291010": ("(0029,1010) Siemens CSA image header", IMAGE_HEADER_MAX, None),
    "00211019": ("(0021,1019) Siemens MrPhoenixProtocol", SERIES_BULK_MAX, None),
    "0025101B": ("(0025,101B) GE series protocol", ge_dicom_protocol.MAX_BLOB, ge_dicom_protocol.CREATOR),
    "0043102A": ("(0043,102A) GE user data", IMAGE_HEADER_MAX, None),
}
SERIES_BULK_TAGS = set(SERIES_BULK)
# A Philips protocol object (dicom_protocol.SOP_CLASSES: a dummy run's series protocol / ExamCard, no pixels) holds
# its tables as (2005,xx44) values of the items of (2005,xx32): each is fetched (it is the object's content). The
# block xx is the item's own (the creator "Philips MR Imaging DD 002" sits at (2005,0010) in one object, (2005,0011)
# in another: an Ingenia's); the handler does not see a nested item's creators, so any block's xx44 of such an
# object counts (bounded below), and the reader picks the table by its creator.
PHILIPS_TABLES_MAX = 64  # tables fetched per object at most


def _wanted(tag: str, item: dict) -> tuple[str, int] | None:
    """(what, cap) when `tag` of this instance's JSON is a series bulk value, else None. A private element
    (gggg,xxee) counts only in the block its creator names: (gggg,00xx) must say the creator the reader looks for
    (the same element number in another vendor's block is another value)."""
    tag = tag.upper()
    for want, (what, cap, creator) in SERIES_BULK.items():
        if creator is None:
            if tag == want:
                return what, cap
            continue
        if len(tag) != 8 or tag[:4] != want[:4] or tag[6:] != want[6:] or not _block(tag):
            continue
        said = ((item.get(f"{tag[:4]}00{tag[4:6]}") or {}).get("Value") or [""])[0]
        if isinstance(said, str) and said.strip() == creator:
            return f"({tag[:4]},{tag[4:]}) {what.split(') ', 1)[1]}", cap
    return None


def _philips_table(tag: str) -> bool:
    return len(tag) == 8 and tag[:4] == "2005" and tag[6:] == "44" and _block(tag)


def _block(tag: str) -> bool:
    try:
        return int(tag[4:6], 16) >= 0x10  # private blocks are (gggg,10xx)..(gggg,FFxx)
    except ValueError:
        return False


def _bulk_data_handler(clients: dict, item: dict, cache: dict[str, bytes], origin: str, said: list[str]):
    """The bulk-data handler for one instance's DICOM JSON: the series' bulk values of SERIES_BULK (each fetched
    once per series, bounded by its cap while it arrives), b"" for the rest. A value the server will not give
    stays empty, with one warning per series: the check then knows what the headers say.

    The URI is asked of the server the study came from (`origin`), whatever host it names: servers write their
    own idea of their address there (Orthanc drops the port), and a pull never follows a URI to another host."""
    series = ((item.get("0020000E") or {}).get("Value") or [""])[0]
    label = _series_label(item)

    sop = ((item.get("00080016") or {}).get("Value") or [""])[0]
    tables = [0]

    def handler(tag: str, vr: str, uri: str) -> bytes:
        wanted = _wanted(tag, item)
        key = f"{series}|{tag.upper()}"
        if wanted is None and _philips_table(tag) and str(sop).encode() in dicom_protocol.SOP_CLASSES:
            # A Philips protocol object (no image): each of its tables is its own value, fetched once each.
            tables[0] += 1
            if tables[0] > PHILIPS_TABLES_MAX:
                return b""
            wanted = (f"({tag[:4]},{tag[4:].upper()}) Philips protocol table", SERIES_BULK_MAX)
            key = f"{series}|{urlsplit(uri).path}"
        if wanted is None:
            return b""
        what, cap = wanted
        if key not in cache:
            why = ""
            try:
                where = urlsplit(uri)
                url = origin + where.path + (f"?{where.query}" if where.query else "")
                parts = clients[cap].retrieve_bulkdata(url, media_types=("application/octet-stream",))
                data = b"".join(parts) if parts else b""
            except LimitError:
                data, why = b"", f"past {cap:,} bytes"  # a bulk value past its bound: left out
            except Exception as error:  # noqa: BLE001 - a server that refuses bulk data: the headers still read
                data, why = b"", _why(error)
            if why:
                said.append(f"{label}: the server did not give {what} ({why}); the headers' values stand")
            cache[key] = data
        return cache[key]

    return handler


def _series_label(item: dict) -> str:
    """How a warning names the series of this instance's DICOM JSON: its description, else its number, else "a
    series". Never its SeriesInstanceUID: warnings go into reports meant to be shared, which hold no identifier."""
    description = ((item.get("0008103E") or {}).get("Value") or [""])[0]
    if isinstance(description, str) and description.strip():
        return " ".join(description.split())
    number = ((item.get("00200011") or {}).get("Value") or [None])[0]
    if isinstance(number, int | float) and not isinstance(number, bool):
        return f"series {number:g}"
    return "a series"


def _why(error: Exception) -> str:
    """Why a request failed, for a shareable report: the HTTP status or the error's type only. The error's text is
    not used: requests writes the URL into it (the host, and the study, series and instance UIDs of the path)."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int):
        return f"HTTP {status}"
    return type(error).__name__
