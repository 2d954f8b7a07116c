"""device: everything between the sensors' bytes and a RawFrame.

Wire protocol codec, serial readers built from port URLs, clock alignment,
the virtual patient (``sim://``) and recording replay (``replay://``),
importers of vendor exports. No metrics, no pygame.
"""

import serial

# pyserial looks for ``protocol_<scheme>`` modules in these packages when
# serial_for_url() meets an unknown scheme; registering ours here makes
# sim:// and replay:// ordinary port URLs everywhere in the kiosk.
if "device.handlers" not in serial.protocol_handler_packages:
    serial.protocol_handler_packages.append("device.handlers")
