"""The reader's own set-up commands, resent until acknowledged (docs/protocol.md section 9).

A reader thread sends SET_PROTOCOL, SET_RATE and START by itself (at the
handshake, after a device restart or swap) and cannot block waiting for their
ACKs: it is the thread that reads them. :class:`Resender` is the bookkeeping,
pure and clock-driven (STYLE 4): :meth:`~Resender.due` says which commands to
send again, with a new ``seq``, after ``wait_s`` without an ACK, and which to
give up on after ``tries`` sends. The reader does the sending and reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from device.framing import CommandOp

ACK_WAIT_S = 0.25  # docs/protocol.md: resend an unanswered command after 250 ms
TRIES = 4  # then it is reported: about 1 s, the default timeout of DeviceReader.command


@dataclass
class Outstanding:
    """One command awaiting its ACK; any of its ``seqs`` answers it."""

    op: CommandOp
    value: float
    sent_at: float  # clock of the last send
    seqs: list[int] = field(default_factory=list)

    @property
    def tries(self) -> int:
        return len(self.seqs)


class Resender:
    """At most one outstanding command per op: sending an op again supersedes the earlier one."""

    def __init__(self, wait_s: float = ACK_WAIT_S, tries: int = TRIES):
        self.wait_s = wait_s
        self.tries = tries
        self._by_op: dict[int, Outstanding] = {}

    def __contains__(self, op: CommandOp) -> bool:
        return int(op) in self._by_op

    def __bool__(self) -> bool:
        return bool(self._by_op)

    def clear(self) -> None:
        self._by_op.clear()

    def sent(self, op: CommandOp, value: float, seq: int, now: float) -> None:
        """``op`` went out as ``seq`` for the first time."""
        self._by_op[int(op)] = Outstanding(CommandOp(op), float(value), now, [seq])

    def resent(self, item: Outstanding, seq: int, now: float) -> None:
        item.seqs.append(seq)
        item.sent_at = now

    def answered(self, seq: int) -> Outstanding | None:
        """The command an ACK quoting ``seq`` answers (no longer outstanding), else None."""
        for op, item in self._by_op.items():
            if seq in item.seqs:
                del self._by_op[op]
                return item
        return None

    def due(self, now: float) -> tuple[list[Outstanding], list[Outstanding]]:
        """(to send again, given up) at ``now``; the given-up ones are forgotten."""
        again, given_up = [], []
        for op, item in list(self._by_op.items()):
            if now - item.sent_at < self.wait_s:
                continue
            if item.tries >= self.tries:
                del self._by_op[op]
                given_up.append(item)
            else:
                again.append(item)
        return again, given_up
