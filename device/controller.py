"""Several virtual sensor boards behind one port: a multiplexing controller.

docs/protocol.md section 1 allows one port to carry several devices, each at
its own address. :class:`VirtualController` is such a line for tests and
demos: the host's bytes reach every board (each answers only commands for
its own address or 0xFFFF), and their packets share the one line. It quacks
like a :class:`~device.virtual.VirtualDevice`, so a
:class:`~device.pty.PtyServer` serves it on one pseudo-terminal.

The kiosk reads one device per port (docs/sensors.md, "Several devices on one
port"); this is how the tests show that a second board on the line is counted
and ignored, never mixed in.
"""

from __future__ import annotations

import math

from device.virtual import VirtualDevice


class VirtualController:
    """Boards on one line. Not thread-safe: callers lock, as for a VirtualDevice."""

    def __init__(self, boards: list[VirtualDevice]):
        addresses = [b.address for b in boards]
        if len(set(addresses)) != len(addresses):
            raise ValueError(f"each board on a line needs its own address, got {addresses}")
        self.boards = list(boards)
        self.plugged = False

    @property
    def serial(self) -> str:
        return "+".join(b.serial for b in self.boards)

    @property
    def frames_sent(self) -> int:
        return sum(b.frames_sent for b in self.boards)

    @property
    def commands(self) -> int:
        return sum(b.commands for b in self.boards)

    def plug(self) -> None:
        """Power the controller on: every board boots and says HELLO."""
        self.plugged = True
        for board in self.boards:
            board.plug()

    def unplug(self) -> None:
        self.plugged = False
        for board in self.boards:
            board.unplug()

    def add(self, board: VirtualDevice) -> None:
        """A board connected while the line runs: it powers up and says HELLO at its address."""
        if any(b.address == board.address for b in self.boards):
            raise ValueError(f"address {board.address} is taken on this line")
        self.boards.append(board)
        if self.plugged:
            board.plug()

    def write(self, data: bytes) -> None:
        for board in self.boards:
            board.write(data)

    def read_available(self, now: float | None = None) -> bytes:
        # Each board hands over whole packets, so their bytes never interleave mid-packet.
        return b"".join(board.read_available(now) for board in self.boards)

    def next_due(self) -> float:
        return min((board.next_due() for board in self.boards), default=math.inf)
