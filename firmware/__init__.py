"""Insole board firmware (MicroPython): the wire protocol of docs/protocol.md on the device side.

Every module here runs unchanged on the board and on a PC (CPython or the MicroPython unix
port): hardware (ADC, multiplexer pins, clock, UART) is handed in, never imported at module
level. The kiosk never imports this package: it carries the files and flashes them onto a board
(gaitkiosk firmware); docs/firmware.md says how to build, test and flash it.
"""
