"""CLI conventions shared by every sub-command (README, "Command line")."""

import subprocess
import sys

import pytest

from gaitkiosk import cli


def run_cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "gaitkiosk", *args], capture_output=True, text=True, timeout=120, **kw)


@pytest.mark.parametrize("name", cli.COMMANDS)
def test_every_command_has_help_and_the_common_options(name, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([name, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for option in ("--config", "--data-dir", "--json", "--debug"):
        assert option in text, f"gaitkiosk {name} --help does not mention {option}"


def test_no_command_prints_help_and_fails(capsys):
    assert cli.main([]) == cli.EXIT_USAGE
    assert "COMMAND" in capsys.readouterr().out


def test_bad_config_is_one_line_and_exit_1(tmp_path):
    if not cli.COMMANDS:
        pytest.fail("no sub-commands registered")
    bad = tmp_path / "bad.toml"
    bad.write_text("[sim]\nseeed = 1\n")
    result = run_cli(cli.COMMANDS[0], "--config", str(bad))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "unknown config key 'sim.seeed'" in lines[0]
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[sim]\nseeed = 1\n")
    result = run_cli(cli.COMMANDS[0], "--config", str(bad), "--debug")
    assert result.returncode != 0
    assert "Traceback" in result.stderr


def test_building_the_argument_parser_imports_no_database_or_numeric_library():
    # Every command builds the whole parser first: a heavy import there slows every command's start
    # (the users command once pulled sqlite_utils in for its list of roles: +0.45 s on `--version`).
    code = ("import sys; from gaitkiosk import cli; cli.build_parser(); "
            "print(','.join(m for m in ('sqlite_utils', 'numpy', 'store.rows', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
