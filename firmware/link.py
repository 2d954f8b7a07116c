"""The byte link to the kiosk over a stream pair: USB CDC on the board (sys.stdin / sys.stdout),
a pseudo-terminal under the unix port. The API firmware/insole.py expects: read, write, room.

``select`` is handed in (MicroPython's select module, or CPython's in tests). Reading goes a byte
at a time while ``poll`` says one is waiting: commands are a few dozen bytes now and then, and
a byte left unread stays for whoever takes the port next (mpremote after its break-in).
"""

RX_CHUNK = 64


class StreamLink:
    def __init__(self, stream_in, stream_out, select):
        self.stream_in, self.stream_out = stream_in, stream_out
        self._in = select.poll()
        self._in.register(stream_in, select.POLLIN)
        self._out = select.poll()
        self._out.register(stream_out, select.POLLOUT)

    def read(self, n=RX_CHUNK):
        """The bytes waiting now (at most ``n``), b"" if none; never blocks."""
        got = b""
        while len(got) < n and self._in.poll(0):
            byte = self.stream_in.read(1)
            if not byte:  # the other end went away
                break
            got += byte
        return got

    def write(self, data):
        self.stream_out.write(data)

    def room(self):
        return bool(self._out.poll(0))
