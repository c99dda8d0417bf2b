"""Stumble 10: gunicorn's control socket is per instance (or absent), never the per-user default
``~/.gunicorn/gunicorn.ctl`` that a second instance would take over and stopping one would
delete."""

from __future__ import annotations

from pathlib import Path

from tests.servers import base_env, gunicorn, stop


def test_no_shared_control_socket_by_default(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    env.pop("XDG_RUNTIME_DIR", None)
    with gunicorn(env, tmp_path / "one.log"), gunicorn(env, tmp_path / "two.log"):
        assert not (tmp_path / ".gunicorn").exists()
        assert list(tmp_path.rglob("*.ctl")) == []


def test_each_instance_keeps_its_own_socket(tmp_path: Path) -> None:
    first_socket, second_socket = tmp_path / "first.ctl", tmp_path / "second.ctl"
    env = base_env(tmp_path)
    with gunicorn({**env, "GUNICORN_CONTROL_SOCKET": str(first_socket)},
                  tmp_path / "one.log") as first, \
         gunicorn({**env, "GUNICORN_CONTROL_SOCKET": str(second_socket)},
                  tmp_path / "two.log"):
        assert first_socket.is_socket() and second_socket.is_socket()
        stop(first)
        assert not first_socket.exists()
        assert second_socket.is_socket()  # the other instance's socket survives
    assert not (tmp_path / ".gunicorn").exists()
