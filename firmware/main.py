# Copied to the board's root as main.py (gaitkiosk firmware flash): MicroPython runs it at boot.
from firmware.board import main

main()
