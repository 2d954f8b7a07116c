"""Board glue: the RP2040 (or ESP32-S3) hardware handed to the loop. Runs from main.py at boot.

The only module that touches ``machine``; it is imported only on a board (the unix port has
``machine`` without ADC, Pin or WDT). docs/firmware.md has the wiring and the pin map.
"""

WDT_MS = 2000  # a loop that has not scanned for 2 s is stuck: the watchdog resets the board
REPL_FEED_MS = 500  # after mpremote breaks in, a timer keeps the (unstoppable) watchdog fed
TEMP_ADC = 4  # the RP2040's internal temperature sensor channel
TIMER_ID = {"rp2": -1}  # a soft timer where the port has them; else hardware timer 0 (ESP32)


def main(path="config.json"):
    import select
    import sys
    import time

    import machine
    import micropython

    from firmware import config
    from firmware.health import Health
    from firmware.insole import Insole
    from firmware.link import StreamLink
    from firmware.scanner import Scanner

    try:
        cfg = config.load(path)
    except ValueError as exc:
        print("insole firmware not started:", exc)  # one line on the REPL, the board stays reachable
        return None
    pins = cfg["pins"]
    adc = machine.ADC(machine.Pin(pins["adc"]))
    mux = [machine.Pin(p, machine.Pin.OUT) for p in pins["mux"]]
    led = machine.Pin(pins["led"], machine.Pin.OUT) if pins.get("led") is not None else None
    battery = machine.ADC(machine.Pin(pins["battery"])) if pins.get("battery") is not None else None
    temp = machine.ADC(TEMP_ADC) if cfg.get("temperature", True) else None
    scanner = Scanner(adc, mux, time, sensors=cfg["sensors"], bits=cfg["bits"], oversample=cfg["oversample"],
                      settle_us=cfg["settle_us"], rate_hz=cfg["rate_hz"])
    link = StreamLink(sys.stdin.buffer, sys.stdout.buffer, select)
    wdt = machine.WDT(timeout=WDT_MS)
    insole = Insole(cfg, scanner, link, wdt, led=led, health=Health(battery, cfg.get("battery_divider", 3.0), temp))
    micropython.kbd_intr(-1)  # 0x03 is an ordinary byte inside a COMMAND
    try:
        insole.run()
    finally:
        micropython.kbd_intr(3)
        # The REPL after mpremote's break-in: the watchdog cannot be stopped once started.
        machine.Timer(TIMER_ID.get(sys.platform, 0), period=REPL_FEED_MS, callback=lambda _t: wdt.feed())
    return insole
