"""``gaitkiosk firmware``: which insole firmware the attached insoles run; flash the bundled one.

    gaitkiosk firmware version [PORT ...]      each insole's firmware (from its HELLO) against the bundled one
    gaitkiosk firmware flash PORT [--yes] [--force]

``flash`` asks the insole at PORT who it is, refuses a downgrade without ``--force``, asks for
confirmation (unless ``--yes``), compiles the bundled firmware with mpy-cross, copies it with
mpremote over the same USB serial port, resets the board and checks the version in the HELLO
it sends after the reboot. The kiosk service must not hold the port (stop it first).
docs/firmware.md says more.
"""

from __future__ import annotations

import os
import sys
import time

HELP = "insole firmware: show the version each insole runs (version), or flash the bundled one (flash)"
REBOOT_S = 20.0  # how long a flashed board has to come back with its HELLO


def add_arguments(parser) -> None:
    parser.add_argument("action", choices=("version", "flash"), help="version: show; flash: copy the bundled firmware")
    parser.add_argument("ports", nargs="*", metavar="PORT",
                        help="serial port(s) of the insole(s); version without PORT asks every attached sensor and "
                             "the configured insoles; flash takes exactly one")
    parser.add_argument("--yes", action="store_true", help="flash without asking for confirmation")
    parser.add_argument("--force", action="store_true",
                        help="flash even if the insole runs the same or a newer firmware (a downgrade)")
    parser.add_argument("--timeout", type=float, default=3.0, metavar="S", help="seconds to wait for each HELLO (default 3)")


def _ask(port: str, timeout: float, options: dict) -> dict:
    """What the device at ``port`` says in its HELLO: {"serial", "kind", "firmware"} or {"error"}."""
    from device.errors import DeviceError
    from device.reader import probe

    try:
        st = probe(port, timeout, **options)
    except DeviceError as exc:
        return {"error": str(exc)}
    if st.hello is None:
        return {"error": f"no HELLO in {timeout:g} s" + (f" ({st.reason})" if st.reason else "")}
    h = st.hello
    return {"serial": h.serial, "kind": h.kind.label, "firmware": h.firmware}


def describe(answer: dict, bundled: str) -> tuple[str, bool]:
    """(one line, outdated) for one insole's answer."""
    from gaitkiosk.firmware_bundle import older_than_bundled

    if "error" in answer:
        return answer["error"], False
    line = f"{answer['kind']} {answer['serial']} firmware {answer['firmware']}"
    if not answer["kind"].startswith("insole"):
        return line + " (not an insole: not ours to flash)", False
    if older_than_bundled(answer["firmware"]):
        return line + f" - OLDER than the bundled {bundled}: gaitkiosk firmware flash PORT", True
    return line, False


def _default_ports(ctx) -> list[str]:
    from device import ports

    devices = ctx.config["devices"]
    found = [p.device for p in ports.list_sensor_ports(devices["usb_ids"])]
    found += [u for u in devices["insoles"] if u and "://" not in u and u not in found]
    return found


def run(args, ctx) -> int:
    from device.reader import reader_options
    from gaitkiosk.errors import KioskError
    from gaitkiosk.firmware_bundle import bundled_version

    bundled = bundled_version()
    options = reader_options(ctx.config["devices"])
    options.pop("hello_timeout_s", None)
    if args.action == "version":
        ports = args.ports or _default_ports(ctx)
        rows = []
        for port in ports:
            answer = _ask(port, args.timeout, options)
            line, outdated = describe(answer, bundled)
            rows.append({"port": port, **answer, "outdated": outdated, "text": line})
        lines = [f"bundled insole firmware: {bundled}"]
        lines += [f"  {r['port']:<14} {r['text']}" for r in rows] or ["  no sensor ports found (give PORT)"]
        ctx.emit({"bundled": bundled, "insoles": rows}, "\n".join(lines))
        return 1 if any("error" in r for r in rows) else 0
    if len(args.ports) != 1:
        raise KioskError("flash takes exactly one PORT (one insole at a time)")
    return _flash(args.ports[0], args, ctx, bundled, options)


def _flash(port: str, args, ctx, bundled: str, options: dict) -> int:
    from gaitkiosk.errors import KioskError
    from gaitkiosk.firmware_bundle import version_key

    if "://" not in port and not os.path.exists(port):
        raise KioskError(f"no such port {port}")
    before = _ask(port, args.timeout, options)
    who = f"{before['kind']} {before['serial']}" if "serial" in before else "the board"
    if "error" in before:
        ctx.out.write(f"{port}: {before['error']}; a board without the insole firmware? flashing it as new\n")
    elif not before["kind"].startswith("insole"):
        raise KioskError(f"{port} is a {before['kind']} ({before['serial']}), not an insole: not flashed")
    else:
        now, mine = version_key(before["firmware"]), version_key(bundled)
        if now is not None and mine is not None and now >= mine and not args.force:
            if now == mine:
                ctx.emit({"port": port, "serial": before["serial"], "firmware": bundled, "flashed": False},
                         f"{who} at {port} already runs firmware {bundled}: nothing to do (--force flashes it again)")
                return 0
            raise KioskError(f"{who} at {port} runs firmware {before['firmware']}, newer than the bundled {bundled}: "
                             "not flashed (a downgrade needs --force)")
    if not args.yes and not _confirm(f"Flash insole firmware {bundled} onto {who} at {port}"
                                     + (f" (now {before['firmware']})" if "firmware" in before else "") + "? [y/N] ", ctx):
        raise KioskError("not flashed: not confirmed (answer y, or give --yes)")
    _copy(port)
    after = _wait_hello(port, args.timeout, options)
    if after.get("firmware") != bundled:
        raise KioskError(f"flashed {port}, but after the reboot it says "
                         + (f"firmware {after['firmware']}" if "firmware" in after else after.get("error", "nothing"))
                         + f", not {bundled}: is config.json on the board? (docs/firmware.md)")
    ctx.emit({"port": port, "serial": after["serial"], "before": before.get("firmware"), "firmware": bundled,
              "flashed": True}, f"{after['kind']} {after['serial']} at {port} now runs firmware {bundled}")
    return 0


def _confirm(prompt: str, ctx) -> bool:
    ctx.out.write(prompt)
    ctx.out.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def _mpremote(port: str, *commands: str, check: bool = True) -> str:
    """Run the real mpremote on ``port`` (``resume``: no soft reset first, the board stays as it is)."""
    import subprocess

    from gaitkiosk.errors import KioskError

    done = subprocess.run([sys.executable, "-m", "mpremote", "connect", port, "resume", *commands],
                          capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise KioskError(f"mpremote {' '.join(commands[:2])} on {port} failed: {last[0]}")
    return done.stdout


def _copy(port: str) -> None:
    """Old firmware out, the mpy-cross build in, then a hard reset."""
    import tempfile
    from pathlib import Path

    from gaitkiosk.firmware_bundle import build

    with tempfile.TemporaryDirectory() as tmp:
        copies = build(Path(tmp))
        _mpremote(port, "rm", "-r", ":firmware", check=False)  # none there on a new board
        commands: list[str] = ["mkdir", ":firmware"]
        for local, remote in copies:
            commands += ["+", "cp", str(local), ":" + remote]
        _mpremote(port, *commands, "+", "reset")


def _wait_hello(port: str, timeout: float, options: dict) -> dict:
    """The HELLO of the rebooted board; its USB port may vanish for a moment while it restarts."""
    end = time.monotonic() + REBOOT_S
    answer: dict = {"error": "no answer"}
    while time.monotonic() < end:
        if "://" in port or os.path.exists(port):
            answer = _ask(port, timeout, options)
            if "firmware" in answer:
                return answer
        time.sleep(0.5)  # the port is re-enumerating: look again shortly
    return answer
