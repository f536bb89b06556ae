"""`assistant service install|remove`: the systemd user unit, written into a temporary home,
checked by systemd's own `systemd-analyze verify`.

Every command runs with XDG_RUNTIME_DIR in an empty folder and no session bus, so that no user
systemd answers: the tests never enable a service on the machine that runs them."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT = "car-t-assistant.service"


@pytest.fixture
def home(tmp_path):
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("XDG_", "DBUS_"))}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_RUNTIME_DIR=str(runtime))
    return tmp_path, env


def assistant(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], capture_output=True, text=True, timeout=60, cwd=ROOT, env=env
    )


def test_install_writes_a_unit_that_systemd_accepts_and_remove_takes_it_away(home):
    folder, env = home
    result = assistant(env, "service", "install")
    assert result.returncode == 0, result.stderr
    unit = folder / "config" / "systemd" / "user" / UNIT
    assert result.stdout.splitlines()[0] == f"wrote {unit}"
    # Without a user systemd the commands that enable it are shown instead of run.
    assert f"systemctl --user daemon-reload && systemctl --user enable {UNIT}" in result.stdout
    text = unit.read_text(encoding="utf-8")
    (exec_start,) = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    program = exec_start.removeprefix("ExecStart=").split()[0]
    assert Path(program).is_absolute() and os.access(program, os.X_OK)
    assert exec_start.endswith(" listen")
    for line in ("Restart=on-failure", "StandardOutput=journal", "StandardError=journal", "WantedBy=default.target"):
        assert line in text.splitlines()
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd; scripts/test installs it)")
    verified = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    # Unknown keys and bad values are warnings only: a unit systemd fully accepts says nothing.
    assert verified.returncode == 0 and verified.stderr.strip() == "", verified.stderr

    # `systemctl enable` links the unit into default.target.wants; remove takes the link away too.
    wants = unit.parent / "default.target.wants"
    wants.mkdir()
    (wants / UNIT).symlink_to(unit)
    removed = assistant(env, "service", "remove")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.splitlines() == [f"removed {unit}"]
    assert not unit.exists() and not (wants / UNIT).is_symlink()
    again = assistant(env, "service", "remove")
    assert again.returncode == 0 and again.stdout.splitlines() == [f"no service installed at {unit}"]


def test_the_unit_passes_on_the_global_options_quoted_for_systemd(home):
    folder, env = home
    config = folder / "my config 100%.toml"
    result = assistant(env, "--config", str(config), "service", "install", "--print", "--guide", "intents/car-t-guide.txt")
    assert result.returncode == 0, result.stderr
    (exec_start,) = [line for line in result.stdout.splitlines() if line.startswith("ExecStart=")]
    # systemd reads % as a specifier and splits at spaces outside quotes.
    quoted = str(config).replace("%", "%%")
    assert f'--config "{quoted}" --guide {ROOT / "intents" / "car-t-guide.txt"} listen' in exec_start
    assert result.stdout.splitlines()[0] == f"# {folder / 'config' / 'systemd' / 'user' / UNIT}"
    assert not (folder / "config").exists()  # --print changes nothing
