"""The panel's browser notifier, Python side: which events fire it and what it sends (no browser needed).

The browser side (``notify.js``: a notification only while the page is hidden, the permission asked
once) is exercised by ``tests/browser/test_browser_dashboard.py``.
"""

import io
import json
import subprocess
import sys

import pytest

from amc_magic.engine.events import EventKind
from amc_magic.notify import Notifier, notice
from amc_magic.panel import PanelState, StatusPanel, TextStatus
from panel_support import FakeClock, event


@pytest.fixture
def panel():
    return StatusPanel("amcsandbox01", clock=FakeClock())


LIVE_EVENTS = [
    event(EventKind.QUEUED),
    event(EventKind.SUBMITTED, "PENDING"),
    event(EventKind.STATUS, "RUNNING", elapsed=3.0),
    event(EventKind.POLL, "RUNNING", elapsed=4.0, polls=2),
    event(EventKind.STATUS, "SUCCEEDED", elapsed=9.0, polls=3),
    event(EventKind.DOWNLOADING, "SUCCEEDED", elapsed=9.0, files=1),
]


def test_the_notifier_is_a_hidden_child_of_the_panel(panel):
    assert panel.notifier in panel.widget.children
    assert panel.notifier.layout.display == "none"
    state = panel.notifier.get_state()
    assert state["_model_module"] == "anywidget"
    assert "new Notification(" in state["_esm"] and "requestPermission" in state["_esm"]
    assert panel.notifier.fired == 0


def test_nothing_fires_for_events_that_do_not_end_the_execution(panel):
    for live in LIVE_EVENTS:
        panel.update(live)
    panel.tick()
    assert panel.notifier.fired == 0
    assert panel.notifier.title == panel.notifier.body == ""


def test_the_end_of_a_successful_execution_fires_once_with_its_shape(panel):
    for live in LIVE_EVENTS:
        panel.update(live)
    panel.update(event(EventKind.DONE, "SUCCEEDED", elapsed=80.0, polls=4, rows=1234, columns=3))
    notifier = panel.notifier
    assert notifier.fired == 1
    assert notifier.status == "SUCCEEDED"
    assert notifier.title == "AMC query SUCCEEDED"
    assert notifier.body == "amcsandbox01 · e-1 · 1,234 rows x 3 columns · after 1m 20s"
    panel.update(event(EventKind.DONE, "SUCCEEDED", elapsed=81.0))  # a repeated end does not notify again
    assert notifier.fired == 1


@pytest.mark.parametrize(
    ("ending", "status"),
    [
        (event(EventKind.FAILED, "FAILED", status_reason="Was unable to read table dsp_impressions"), "FAILED"),
        (event(EventKind.FAILED, "REJECTED", status_reason="Was unable to read table dsp_impressions"), "REJECTED"),
        (event(EventKind.CANCELLED, "CANCELLED", status_reason="Was unable to read table dsp_impressions"), "CANCELLED"),
    ],
    ids=["failed", "rejected", "cancelled"],
)
def test_failures_and_cancellations_fire_with_the_reason(panel, ending, status):
    panel.update(event(EventKind.STATUS, "RUNNING"))
    panel.update(ending)
    assert panel.notifier.fired == 1
    assert panel.notifier.status == status
    assert panel.notifier.title == f"AMC query {status}"
    assert panel.notifier.body.endswith("\nWas unable to read table dsp_impressions")


def test_a_timeout_does_not_fire_the_execution_still_runs_on_amc(panel):
    panel.update(event(EventKind.STATUS, "RUNNING"))
    panel.update(event(EventKind.TIMED_OUT, "RUNNING"))
    assert panel.notifier.fired == 0


def test_a_cache_note_does_not_fire(panel):
    panel.show_note("answered from the cache", status="CACHED")
    assert panel.notifier.fired == 0


class RecordingComm:
    """Stands in for the kernel's comm: keeps the messages a widget sends."""

    comm_id = "recording"
    kernel = "a kernel"

    def __init__(self):
        self.messages = []

    def send(self, data=None, buffers=None, **kwargs):
        self.messages.append(data)

    def on_msg(self, callback):
        pass

    def close(self, *args, **kwargs):
        pass


def test_fire_sends_all_traits_in_one_message():
    notifier = Notifier()
    notifier.comm = comm = RecordingComm()
    notifier.fire("AMC query FAILED", "amcsandbox01 · e-9", "FAILED")
    assert [message["method"] for message in comm.messages] == ["update"]
    assert comm.messages[0]["state"] == {"title": "AMC query FAILED", "body": "amcsandbox01 · e-9", "status": "FAILED", "fired": 1}
    assert (notifier.title, notifier.body, notifier.status, notifier.fired) == ("AMC query FAILED", "amcsandbox01 · e-9", "FAILED", 1)


def test_a_long_reason_is_cut():
    state = PanelState(instance_id="amcsandbox01", status="FAILED", reason="x" * 500, elapsed=5.0)
    title, body = notice(state)
    assert title == "AMC query FAILED"
    assert body.splitlines()[0] == "amcsandbox01 · after 5s"
    assert len(body.splitlines()[1]) == 200 and body.endswith("…")


def test_the_text_fallback_is_unaffected():
    out = io.StringIO()
    text = TextStatus("amcsandbox01", stream=out, clock=FakeClock())
    text.update(event(EventKind.STATUS, "RUNNING", elapsed=5.0))
    text.update(event(EventKind.DONE, "SUCCEEDED", elapsed=42.0, rows=10, columns=2))
    assert out.getvalue().splitlines() == [
        "[amc] amcsandbox01 | e-1 | RUNNING after 5s",
        "[amc] amcsandbox01 | e-1 | SUCCEEDED after 42s | 10 rows x 2 columns",
    ]
    assert not hasattr(text, "notifier")
    bundle = StatusPanel("amcsandbox01", clock=FakeClock())._repr_mimebundle_()
    assert bundle["text/plain"] == "AMC status panel for amcsandbox01 (a live view in a widget frontend)"


def test_loading_the_extension_does_not_import_anywidget():
    code = (
        "import json, sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance().run_line_magic('load_ext', 'amc_magic')\n"
        "import amc_magic.panel\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(json.loads(output.splitlines()[-1]))
    assert "amc_magic.magics" in loaded
    assert not {"anywidget", "amc_magic.notify", "psygnal"} & loaded
