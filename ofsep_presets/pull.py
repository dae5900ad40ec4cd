"""Fetch a study from a PACS for `check`: `pacs://AET@host:port/STUDY_UID` (C-GET) and `dicomweb://…` (WADO-RS).

Both land in a spool folder (spool.py: safe names, atomic, bounded) that `check` then reads like any DICOM folder,
so a pulled study is checked exactly as the same files on disk. DICOMweb asks for the study's *metadata* only
(headers as DICOM JSON, no pixel data), and per series the few bulk values a protocol check reads that the headers
leave out (SERIES_BULK: the Siemens CSA headers and XA protocol, GE's series protocol and user data; a Philips
protocol object's tables), each found by its private creator as the reader finds it and bounded (its cap; all of
them, limit `pull_bulk_bytes`). That is everything a protocol check reads. A pull is bounded in time as a whole
(limit `pull_seconds`), and its warnings, which go into shareable reports, name no UID or URL. Networking is
pynetdicom's and dicomweb-client's; nothing here speaks a protocol by hand.

URL forms:
  pacs://PEER_AET@HOST:PORT/STUDY_UID[?aet=OUR_AET]
  dicomweb://HOST:PORT/BASE/PATH/studies/STUDY_UID     (dicomwebs:// for HTTPS)
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from . import limits
from .errors import OfsepError
from .limits import LimitError
from .readers import dicom_private, dicom_protocol, ge_dicom_protocol
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
    """Fetch the study `ref` names into the spool folder `dest`; returns what was fetched.

    The whole pull is bounded in time by limit `pull_seconds`: `timeout` bounds each wait for the peer, not their
    sum, and a peer may answer a byte at a time. The budget is checked between reads and bounds each wait (Clock:
    any thread), and in the main thread also armed as a SIGALRM (limits.deadline) for what the checks cannot see
    (a peer trickling its HTTP header lines, a C-GET's association). Past it the pull is refused whole."""
    remote = parse(ref)
    spool = Spool(dest)
    said: list[str] = []
    clock = limits.Clock(remote.label, "pull_seconds")
    try:
        with limits.deadline(remote.label, "pull_seconds"):
            pulled = _c_get(remote, spool, timeout, clock) if remote.scheme == "pacs" else None
            count = pulled if pulled is not None else _wado_metadata(remote, spool, timeout, said, clock)
    except LimitError as error:
        raise PullError(str(error)) from None
    if count == 0:
        raise PullError(f"{remote.label}: the peer sent no instance of that study")
    return replace(remote, warnings=tuple(said))


def _c_get(remote: Remote, spool: Spool, timeout: float, clock: limits.Clock) -> int:
    from pydicom.dataset import Dataset
    from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, build_role, evt
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelGet

    ae = AE(ae_title=remote.our_aet)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = max(1.0, min(timeout, clock.check()))
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
    done = False
    try:
        for status, _ in assoc.send_c_get(query, StudyRootQueryRetrieveInformationModelGet):
            clock.check()  # a pending status comes after each instance sent: the pull's time is counted there
            if status is None:
                failure = "no answer (timeout)"
            elif status.Status not in (0x0000, 0xFF00, 0xFF01) and not 0xB000 <= status.Status <= 0xBFFF:
                failure = f"C-GET status 0x{status.Status:04X}"
        done = True
    finally:
        if done:
            assoc.release()
        else:
            assoc.abort()  # refused mid-way (the pull's time): no release handshake to wait for
    if failure and not stored[0]:
        raise PullError(f"{remote.label}: {failure}")
    return stored[0]


def _wado_metadata(remote: Remote, spool: Spool, timeout: float, said: list[str], clock: limits.Clock) -> int:
    try:
        import dicomweb_client.api  # noqa: F401 - the [pacs] extra, asked for here with its install hint
        import requests
    except ImportError:
        raise PullError("dicomweb:// needs dicomweb-client: pip install 'ofsep-presets[pacs]'") from None

    http = "https" if remote.scheme == "dicomwebs" else "http"
    url = f"{http}://{remote.host}:{remote.port}{remote.base}"
    client = _client(url, _bounded_session(remote.label, clock=clock), timeout)
    bulk = _BulkFetch(url, f"{http}://{remote.host}:{remote.port}", remote.label, timeout, said, clock)
    try:
        metadata = client.retrieve_study_metadata(remote.study)
    except requests.RequestException as error:
        raise PullError(f"{remote.label}: {error}") from None
    except LimitError as error:
        raise PullError(str(error)) from None
    count = 0
    for item in metadata if isinstance(metadata, list) else []:
        if not isinstance(item, dict):
            continue
        ds, encoded = instance_file(item, bulk.handler(item))
        try:
            spool.store(ds.get("StudyInstanceUID"), ds.get("SeriesInstanceUID"), ds.get("SOPInstanceUID"), encoded)
        except SpoolFull as full:
            raise PullError(f"{remote.label}: {full}") from None
        count += 1
    return count


def _client(url: str, session: requests.Session, timeout: float):
    """A dicomweb-client on `session`, retrying nothing. Its retries (the `retrying` package: up to 5 attempts,
    waiting 2, 4, 8, 16 s between them) are taken on every exception, not only the HTTP statuses it names: a
    value refused past its bound, or the pull's time passed (even the SIGALRM raised in its sleep), was asked again
    and slept on for 30 s. A request that fails is reported once; the user runs the check again."""
    from dicomweb_client.api import DICOMwebClient

    client = DICOMwebClient(url=url, session=session, timeout=timeout)
    client.set_http_retry_params(retry=False)
    return client


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


def _bounded_session(
    label: str, cap: int | Callable[[], int] | None = None, clock: limits.Clock | None = None
) -> requests.Session:
    """A requests session whose every answer is read by a hook, at most `cap` bytes of it (a number, or a function
    giving the bound of the request in flight; default: limit `read_bytes`, the bound every reader works under), so
    a server answering with gigabytes of study metadata, or a bulk value of any size, is refused while it arrives,
    not after it filled memory. requests runs response hooks before it reads a body that was not streamed
    (Session.send), so the hook sees the raw stream; it leaves the body as requests would (`content`), and
    dicomweb-client parses it unchanged.

    With a `clock` (the pull's time, limit `pull_seconds`), no request is sent once it has passed, each wait is
    bounded by the time left (the timeout given, lowered), and the hook checks it after every socket read: the body
    is read as it arrives (read1: what one read gave), so a server trickling its answer a byte at a time is refused
    when the time has passed, where a timeout, which bounds each read, never ends it."""

    import requests

    class Session(requests.Session):
        def send(self, request, **kwargs):
            if clock is not None:
                left = clock.check()
                timeout = kwargs.get("timeout")
                if isinstance(timeout, tuple):
                    kwargs["timeout"] = tuple(left if t is None else min(t, left) for t in timeout)
                else:
                    kwargs["timeout"] = left if timeout is None else min(timeout, left)
            return super().send(request, **kwargs)

    def hook(response, *args, **kwargs):
        bound = limits.get("read_bytes") if cap is None else cap() if callable(cap) else cap
        stated = response.headers.get("Content-Length", "")
        if stated.isdigit() and int(stated) > bound:
            response.close()
            raise _past(label, cap is None, bound, int(stated))
        if getattr(response, "_content_consumed", False):
            return response  # already read (a streamed or cached response): nothing to bound here
        body = bytearray()
        for chunk in _arriving(response.raw):
            body += chunk
            if len(body) > bound:
                response.close()
                raise _past(label, cap is None, bound, len(body))
            if clock is not None and clock.left() <= 0:
                response.close()
                clock.check()
        response._content = bytes(body)
        response._content_consumed = True
        return response

    session = Session()
    session.hooks["response"].append(hook)
    return session


def _arriving(raw, size: int = 2**16) -> Iterator[bytes]:
    """A response body as it arrives: urllib3's read1 gives what one socket read gave (chunked or not), so its reader
    can check a deadline between reads however slowly the bytes come; stream(), on a urllib3 without read1, waits
    for a whole chunk of `size`."""
    if not hasattr(raw, "read1"):
        yield from raw.stream(size, decode_content=True)
        return
    while chunk := raw.read1(size, decode_content=True):
        yield chunk


class _TooLarge(LimitError):
    """A bulk value past its bound (its own cap or what is left of the pull's): that value is left out."""


def _past(label: str, whole: bool, bound: int, amount: int) -> LimitError:
    if whole:
        return limits.refusal("read_bytes", f"{label}: the server's answer", amount)
    return _TooLarge(f"{label}: a bulk value of {amount:,}+ bytes, past {bound:,}: left out")


# Bulk data worth one request per series: the values the DICOM reader takes from a series' representative image
# that a DICOMweb server sends as BulkDataURI (binary VRs), each found exactly as the reader finds it: by its
# private creator, in whichever block that creator took (readers/dicom_private.py, the readers' one table; PS3.5
# 7.8.1), the lowest where several do; the same element number in another creator's block is another value, never
# fetched:
#  - Siemens CSA series header (0029,xx20) ("siemens_csa_series", "SIEMENS CSA HEADER"): the protocol
#    (MrPhoenixProtocol: slices, PAT...);
#  - Siemens CSA image header (0029,xx10) ("siemens_csa_image"): PhaseEncodingDirectionPositive (VB/VE polarity);
#  - Siemens XA MrPhoenixProtocol (0021,xx19) ("siemens_xa_protocol", "SIEMENS MR SDS 01"), top level (classic) or
#    in an item of the shared functional groups' (0021,xxFE) (enhanced: the item holds its own creators);
#  - GE's series protocol (0025,xx1B) ("ge_series_protocol", GEMS_SERS_01: contrast, plane, coil, anatomy...),
#    capped as that reader caps it;
#  - GE's user data (0043,xx2A) ("ge_user_data", GEMS_PARM_01: an EPI's phase-encoding polarity; ~7 KB).
# Each is fetched for the first instance of a series pulled and given to its others: the reader reads these from one
# image per series, its representative (dicom.py _series_acquisition: the lowest InstanceNumber, which need not be
# the first pulled). Two of them are per image, the CSA image header and GE's user data, so a representative other
# than the first pulled carries the first's; what the reader reads of them is a property of the series, the same in
# every image (the phase-encoding polarity), and their per-image parts (slice position, mosaic timing) are read by
# nothing (the scan of every file stops before group 0x0021). Every other bulk value (pixels, GE's histogram...)
# stays empty: a metadata pull never fetches images.
SERIES_BULK_MAX = 4 * 2**20  # bytes: a CSA series header is tens of kilobytes, an XA protocol hundreds
IMAGE_HEADER_MAX = 2**20  # bytes: a CSA image header or GE's user data is kilobytes (GE fixtures': 7,480)
Private = tuple[int, str, int]  # (group, creator, element byte), as dicom_private.PRIVATE writes an element


@dataclass(frozen=True)
class Bulk:
    """A bulk value the reader reads, as it finds it: private element `element` (group, creator, element byte)
    in the sequences `within` (outermost first: a standard tag "ggggeeee" or a private element; () = top level).
    `per_series`: one value for the whole series (fetched once, given to its other instances), else the
    instance's own."""

    element: Private
    what: str
    cap: int
    within: tuple[str | Private, ...] = ()
    per_series: bool = True


_P = dicom_private.PRIVATE
SERIES_BULK = (
    Bulk(_P["siemens_csa_series"], "Siemens CSA series header", SERIES_BULK_MAX),
    Bulk(_P["siemens_csa_image"], "Siemens CSA image header", IMAGE_HEADER_MAX),
    Bulk(_P["siemens_xa_protocol"], "Siemens MrPhoenixProtocol", SERIES_BULK_MAX),
    Bulk(
        _P["siemens_xa_protocol"],
        "Siemens MrPhoenixProtocol",
        SERIES_BULK_MAX,
        within=("52009229", _P["siemens_xa_protocol_item"]),  # SharedFunctionalGroupsSequence, then its item's
    ),
    Bulk(_P["ge_series_protocol"], "GE series protocol", ge_dicom_protocol.MAX_BLOB),
    Bulk(_P["ge_user_data"], "GE user data", IMAGE_HEADER_MAX),
)
# A Philips protocol object (dicom_protocol.SOP_CLASSES: a dummy run's series protocol / ExamCard, no pixels) holds
# its tables as (2005,xx44) values of the items of (2005,xx32), each in the block whose creator is "Philips MR Imaging
# DD 002" (at (2005,0010) in one object, (2005,0011) in another: an Ingenia's), the item's own block for xx44
# (dicom_protocol.read): each is fetched, the object's content, its own: never shared, never cached.
PHILIPS = (0x2005, dicom_protocol.CREATOR)
PHILIPS_TABLE = Bulk(
    (*PHILIPS, dicom_protocol.DATA),
    "Philips protocol table",
    SERIES_BULK_MAX,
    within=((*PHILIPS, dicom_protocol.TABLES),),
    per_series=False,
)
PHILIPS_TABLES_MAX = 64  # tables fetched per object at most (past it: left out, one warning for the object)


def _is(tag: str, want: str | Private, item: dict) -> bool:
    """Whether element `tag` ("ggggeeee") of the DICOM JSON `item` is `want`: a standard tag by its number; a
    private element (group, creator, byte) by its byte in the block whose creator element (gggg,00xx), in `item`,
    names `creator` (dicom_private.block_of: the lowest block where several do)."""
    tag = tag.upper()
    if isinstance(want, str):
        return tag == want
    group, creator, byte = want
    try:
        number = int(tag, 16)
    except ValueError:
        return False
    if len(tag) != 8 or number >> 16 != group or number & 0xFF != byte or not _block(tag):
        return False
    return (number >> 8) & 0xFF == dicom_private.block_of(_creators(item, group), group, creator)


def _creators(item: dict, group: int) -> dict[int, str]:
    """The creator elements (group,0010)-(group,00FF) of a DICOM JSON item: tag -> its value."""
    out = {}
    for block in range(0x10, 0x100):
        said = _first(item, f"{group:04X}00{block:02X}")
        if isinstance(said, str):
            out[(group << 16) | block] = said
    return out


def _first(item: dict, tag: str, default: object = None) -> object:
    """The first value of `tag` in a DICOM JSON item, or `default` (absent, empty, or not JSON of the standard's
    shape)."""
    element = item.get(tag)
    values = element.get("Value") if isinstance(element, dict) else None
    return values[0] if isinstance(values, list) and values else default


def _plan(item: dict) -> dict[str, tuple[Bulk, str]]:
    """BulkDataURI -> (what it is, where: its path of tags) for the values of one instance's DICOM JSON that the
    reader reads (SERIES_BULK; PHILIPS_TABLE in a Philips protocol object). Found before pydicom decodes the JSON,
    because its bulk-data handler is given a tag and a URI only, not the item whose private creators say what a
    nested value is; only the sequences on an entry's path are walked."""
    sop = _first(item, "00080016", "")
    entries = list(SERIES_BULK)
    if isinstance(sop, str) and sop.encode() in dicom_protocol.SOP_CLASSES:
        entries.append(PHILIPS_TABLE)
    plan: dict[str, tuple[Bulk, str]] = {}

    def walk(node: dict, depth: int, candidates: list[Bulk], path: str) -> None:
        for tag, element in node.items():
            if not isinstance(element, dict) or not isinstance(tag, str):
                continue
            uri = element.get("BulkDataURI")
            if isinstance(uri, str):
                for bulk in candidates:
                    if len(bulk.within) == depth and _is(tag, bulk.element, node):
                        plan.setdefault(uri, (bulk, f"{path}{tag.upper()}"))
                        break
            if element.get("vr") == "SQ":
                deeper = [b for b in candidates if len(b.within) > depth and _is(tag, b.within[depth], node)]
                for i, sub in enumerate((element.get("Value") or []) if deeper else []):
                    if isinstance(sub, dict):
                        walk(sub, depth + 1, deeper, f"{path}{tag.upper()}/{i}/")

    walk(item, 0, entries, "")
    return plan


def _wanted(tag: str, item: dict) -> tuple[str, int] | None:
    """(what, cap) when top-level element `tag` of this instance's JSON is a series bulk value, else None. A private
    element (gggg,xxee) counts only in the block its creator names: (gggg,00xx) must say the creator the reader
    looks for (the same element number in another vendor's block is another value)."""
    for bulk in SERIES_BULK:
        if not bulk.within and _is(tag, bulk.element, item):
            return f"({tag[:4].upper()},{tag[4:].upper()}) {bulk.what}", bulk.cap
    return None


def _block(tag: str) -> bool:
    try:
        return int(tag[4:6], 16) >= 0x10  # private blocks are (gggg,10xx)..(gggg,FFxx)
    except ValueError:
        return False


class _BulkFetch:
    """The bulk values of one pull. Each is asked of the server the study came from (`origin`), whatever host its
    URI names: servers write their own idea of their address there (Orthanc drops the port), and a pull never
    follows a URI to another host. Each is bounded by its cap while it arrives, and all together by limit
    `pull_bulk_bytes` (what the series cache can hold is what was fetched): past it the values left are left out,
    with one warning, and the headers still read. A value the server will not give stays empty, with one warning
    per series: the check then knows what the headers say."""

    def __init__(
        self, url: str, origin: str, label: str, timeout: float, said: list[str], clock: limits.Clock | None = None
    ):
        self.origin, self.said = origin, said
        self.cache: dict[tuple[str, str], bytes] = {}  # (series, where) -> value: series values only
        self.spent = 0  # bytes fetched by this pull
        self.bound = 0  # the bound of the request in flight, read by the session's hook
        self.full = False
        self.warned: set[object] = set()
        self.client = _client(url, _bounded_session(label, lambda: self.bound, clock), timeout)

    def _say(self, text: str, key: object = None) -> None:
        """Warn once per `key` (a series' value: two series of one description are two warnings), else per text."""
        key = text if key is None else key
        if key not in self.warned:
            self.warned.add(key)
            self.said.append(text)

    def handler(self, item: dict):
        """The bulk-data handler for one instance's DICOM JSON: its planned values (_plan), b"" for the rest.

        A series value comes from the cache once its series has it, so an instance other than the first pulled of
        its series holds the first's CSA image header / GE user data, which are per image: harmless to the check,
        as the reader reads of them only the series' phase-encoding polarity, from the series' representative
        (see SERIES_BULK). An instance that states no SeriesInstanceUID shares nothing: it fetches its own."""
        plan = _plan(item)
        series = _first(item, "0020000E", "")
        series = series if isinstance(series, str) and series.strip() else None  # none: nothing shared
        label = _series_label(item)
        tables = [uri for uri, (bulk, _) in plan.items() if bulk is PHILIPS_TABLE]
        if len(tables) > PHILIPS_TABLES_MAX:
            for uri in tables[PHILIPS_TABLES_MAX:]:
                del plan[uri]
            self._say(
                f"{label}: a Philips protocol object with {len(tables)} tables: the first {PHILIPS_TABLES_MAX} "
                "were fetched, the others left out"
            )

        def handler(tag: str, vr: str, uri: str) -> bytes:
            found = plan.get(uri)
            if found is None:
                return b""
            bulk, where = found
            key = (series, where) if bulk.per_series and series is not None else None
            if key is not None and key in self.cache:
                return self.cache[key]
            data = self._fetch(uri, bulk, where, label, series)
            if key is not None:
                self.cache[key] = data
            return data

        return handler

    def _fetch(self, uri: str, bulk: Bulk, where: str, label: str, series: str | None) -> bytes:
        if self.full:
            return b""
        tag = where.rsplit("/", 1)[-1]
        what = f"({tag[:4]},{tag[4:]}) {bulk.what}"
        once = (series if series is not None else label, bulk.what)  # one warning per series and kind of value
        left = limits.get("pull_bulk_bytes") - self.spent
        self.bound = max(0, min(bulk.cap, left))
        parts = urlsplit(uri)
        url = self.origin + parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            answer = self.client.retrieve_bulkdata(url, media_types=("application/octet-stream",))
            data = b"".join(answer) if answer else b""
        except _TooLarge:
            if self.bound < bulk.cap:  # the pull's budget, not the value's own cap
                self.full = True
                limit = limits.LIMITS["pull_bulk_bytes"]
                self._say(
                    f"{label} and on: bulk values left out, past the pull_bulk_bytes limit "
                    f"({limits.get('pull_bulk_bytes'):,} {limit.unit}: {limit.what}); the headers' values stand. "
                    f"If the server is trusted, raise it with {limit.env}=N"
                )
            else:
                why = f"past {bulk.cap:,} bytes"
                self._say(f"{label}: the server did not give {what} ({why}); the headers' values stand", once)
            return b""
        except LimitError:
            raise  # the pull's time (limit pull_seconds): the pull is refused whole
        except Exception as error:  # noqa: BLE001 - a server that refuses bulk data: the headers still read
            self._say(f"{label}: the server did not give {what} ({_why(error)}); the headers' values stand", once)
            return b""
        self.spent += len(data)
        return data


def _series_label(item: dict) -> str:
    """How a warning names the series of this instance's DICOM JSON: "series N" by its SeriesNumber, else "a
    series". Warnings go into reports meant to be shared, which hold no identifier: never its SeriesInstanceUID,
    nor its description (operator-editable text, which a --shareable report replaces by the same "series N",
    shareable.py; a warning quoting the bare description would keep it)."""
    number = _first(item, "00200011")
    if isinstance(number, int | float) and not isinstance(number, bool) and math.isfinite(number):
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
