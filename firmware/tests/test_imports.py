"""Every firmware module imports on this interpreter (the port refuses code a type-checker accepts)."""

MODULES = ("cobs", "crc32", "wire", "config", "scanner", "zero", "version", "health", "link", "insole", "simboard", "board")


def test_every_module_imports():
    for name in MODULES:
        module = __import__("firmware." + name, None, None, ["_"])
        assert module.__name__.endswith(name)


def test_version_is_dotted_numbers():
    from firmware.version import PROTOCOL_MAX, PROTOCOL_MIN, VERSION

    assert [int(x) for x in VERSION.split(".")] and PROTOCOL_MIN <= PROTOCOL_MAX
