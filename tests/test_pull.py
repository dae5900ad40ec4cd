"""`check pacs://` against a peer no PACS can be made to be: one that sends a study slowly.

The peer is pynetdicom's own C-GET SCP on loopback (the same library `pull` requests with), which sends each
instance half a second after the last: each DIMSE message well within any timeout, the whole study in 10 s.
"""

from __future__ import annotations

import time

import pytest
from pydicom.uid import generate_uid

from ofsep_presets import pull

from .conftest import FIXTURES
from .dicom_study import read

SERIES = FIXTURES / "dicom/Siemens/VE11_PD_T2_tse_sag_1.8mm"


def test_a_peer_sending_a_study_slowly_is_refused_when_the_pulls_time_has_passed(tmp_path, monkeypatch):
    """Limit pull_seconds bounds a C-GET as a whole (2 s here): the pull is refused in one error naming the limit
    and how to raise it, the association aborted, instead of taking as long as the peer likes."""
    from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, evt
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelGet

    image = read(sorted(SERIES.glob("*.dcm"))[0])
    study = str(image.StudyInstanceUID)
    sent: list[int] = []

    def get(event):
        yield 20
        for i in range(20):
            time.sleep(0.5)
            if event.is_cancelled or not event.assoc.is_established:
                yield 0xFE00, None
                return
            ds = image.copy()
            ds.SOPInstanceUID = generate_uid(entropy_srcs=[study, str(i)])
            sent.append(i)
            yield 0xFF00, ds

    ae = AE("SLOWPACS")
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelGet)
    for uid in pull.GET_SOP_CLASSES:
        ae.add_supported_context(uid, ALL_TRANSFER_SYNTAXES[:6], scu_role=True, scp_role=True)
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_GET, get)])
    monkeypatch.setenv("OFSEP_PRESETS_LIMIT_PULL_SECONDS", "2")
    try:
        start = time.monotonic()
        with pytest.raises(pull.PullError, match="pull_seconds") as refused:
            pull.fetch(f"pacs://SLOWPACS@127.0.0.1:{server.server_address[1]}/{study}", tmp_path / "spool")
        took = time.monotonic() - start
    finally:
        server.shutdown()
    assert "OFSEP_PRESETS_LIMIT_PULL_SECONDS=N" in str(refused.value)
    assert took < 8 and len(sent) < 20
