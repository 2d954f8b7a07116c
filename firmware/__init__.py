"""Insole board firmware (MicroPython): the wire protocol of docs/protocol.md on the device side.

Every module here runs unchanged on the board and on a PC (CPython or the MicroPython unix
port): hardware (ADC, multiplexer pins, clock, UART) is handed in, never imported at module
level. The kiosk never imports this package; docs/firmware.md says how to test and flash it.
"""
