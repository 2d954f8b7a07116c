"""The kiosk's sync thread waits while a patient is in an exercise ([sync] hold_during_drills).

A sync pass costs about a fifth of a core (docs/performance.md, "Sync during a live drill"); on a
Pi the drill must not share it. The worker waits before each request while ``hold()`` is true and
carries on, exactly once, when the exercise ends. The kiosk passes ``Runtime.drill_running``.
"""

from __future__ import annotations

import threading

import pytest
from pg_support import needs_pg, pg_cluster  # noqa: F401 - the fixture
from sync_kiosk_support import exactly_once, fill, server_rows
from sync_support import running_server
from test_sync_kiosk import enrolled
from waiting import wait_until

from gaitkiosk.runtime import Runtime
from sync.worker import Worker

pytestmark = needs_pg()


@pytest.fixture(scope="module")
def server(pg_cluster, tmp_path_factory):  # noqa: F811
    with running_server(pg_cluster.new_database(), tmp_path_factory.mktemp("server")) as srv:
        yield srv


class Exercise:
    """hold() for the worker: true while 'a drill runs'; counts how often it was asked."""

    def __init__(self):
        self.running = True
        self.asked = 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.running


def test_nothing_is_sent_while_a_drill_runs_and_everything_after(server, tmp_path):
    fill(tmp_path, sessions=2)
    kiosk = enrolled(server, tmp_path)
    drill = Exercise()
    done = {}
    with Worker(tmp_path, hold=drill) as worker:
        thread = threading.Thread(target=lambda: done.setdefault("cycle", worker.once()), daemon=True)
        thread.start()
        try:
            assert wait_until(lambda: drill.asked >= 5, timeout=60), "the worker did not wait on the drill"
            assert server_rows(server.dsn, kiosk["kiosk_id"]) == []  # nothing went while it ran
        finally:
            drill.running = False
            thread.join(60)
    assert not thread.is_alive() and done["cycle"].sent > 0
    assert worker.held_s > 0
    exactly_once(server.dsn, tmp_path / "gaitkiosk.db", kiosk["kiosk_id"])


def test_the_kiosk_holds_sync_while_its_drill_shows(tmp_path):
    class Snapshot:
        def __init__(self, drill):
            self.drill = drill

    rt = Runtime.__new__(Runtime)  # only the snapshot is read: no sensors, no threads
    for drill, running in ((None, False), ({"phase": "countdown"}, True), ({"phase": "running"}, True),
                           ({"phase": "paused"}, True), ({"phase": "alert"}, True), ({"phase": "done"}, False)):
        rt._latest = Snapshot(drill)
        assert rt.drill_running() is running, drill
