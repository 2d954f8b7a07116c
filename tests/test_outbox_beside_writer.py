"""The outbox marked sent beside a writer that commits every second (the recording kiosk).

A deferred transaction that reads first and writes second cannot wait for the writer: once
another connection commits after its read, SQLite answers SQLITE_BUSY at once ("database is
locked"), whatever the busy timeout. mark_sent used to read its item inside its transaction.
"""

from __future__ import annotations

import sqlite3

from store import open_store


def test_mark_sent_survives_a_commit_by_another_connection_in_its_middle(tmp_path):
    with open_store(tmp_path) as st:
        item = st.outbox.enqueue("recording", "r-1")
        other = sqlite3.connect(st.path, timeout=10, isolation_level=None)
        fired = []

        def writer_commits_now(sql: str) -> None:
            # Just before mark_sent's first write: the kiosk commits a chunk on its own connection.
            if sql.startswith("UPDATE outbox SET sent_at") and not fired:
                fired.append(sql)
                other.execute("INSERT INTO audit_log (at, action) VALUES ('now', 'kiosk.chunk')")

        st.db.conn.set_trace_callback(writer_commits_now)
        try:
            st.outbox.mark_sent(item.id)
        finally:
            st.db.conn.set_trace_callback(None)
            other.close()
        assert fired and st.outbox.get(item.id).sent_at is not None
