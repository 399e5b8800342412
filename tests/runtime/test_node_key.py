"""Every source of the node key (``load_node_key``), in the order docs/CONFIGURATION.md gives:
NODE_KEY, NODE_KEY_FILE (refused when group or world can read it), an SSM SecureString (moto
over HTTP), or a key generated into DATA_DIR on first run and reused by the restarted node
process."""

import os
import stat

import boto3
import pytest

from crypto import NodeKey
from node.runtime.keys import KEY_FILE_NAME, load_node_key
from node.runtime.ports import free_port
from node.settings import Settings, SettingsError
from tests.support import moto as moto_support

moto_server = moto_support.moto_server
aws_env = moto_support.aws_env


def key_file(tmp_path, mode: int) -> tuple[NodeKey, str]:
    key = NodeKey.generate()
    path = tmp_path / "my.key"
    key.save(path)
    os.chmod(path, mode)
    return key, str(path)


def test_inline_node_key_comes_first(tmp_path):
    inline, (_, path) = NodeKey.generate(), key_file(tmp_path, 0o600)
    env = {"NODE_KEY": inline.seed_base64(), "NODE_KEY_FILE": path, "DATA_DIR": str(tmp_path)}
    assert load_node_key(Settings.from_env(env)).public_hex == inline.public_hex
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_a_bad_inline_key_is_a_settings_error(tmp_path):
    with pytest.raises(SettingsError):
        load_node_key(Settings.from_env({"NODE_KEY": "not base64 of a seed"}))


def test_key_file_of_mode_0600_is_read(tmp_path):
    key, path = key_file(tmp_path, 0o600)
    env = {"NODE_KEY_FILE": path, "DATA_DIR": str(tmp_path / "data")}
    assert load_node_key(Settings.from_env(env)).public_hex == key.public_hex
    assert not (tmp_path / "data" / KEY_FILE_NAME).exists()


@pytest.mark.parametrize("mode", [0o640, 0o644, 0o604])
def test_key_file_readable_by_others_is_refused(tmp_path, mode):
    _, path = key_file(tmp_path, mode)
    with pytest.raises(SettingsError, match="readable by other users"):
        load_node_key(Settings.from_env({"NODE_KEY_FILE": path}))


def test_ssm_secure_string_is_read(aws_env, tmp_path):
    key = NodeKey.generate()
    name = f"/onusone/test/{free_port()}"
    boto3.client("ssm").put_parameter(Name=name, Value=key.seed_base64(), Type="SecureString")
    env = {"NODE_KEY_SSM_PARAM": name, "DATA_DIR": str(tmp_path)}
    assert load_node_key(Settings.from_env(env)).public_hex == key.public_hex
    with pytest.raises(SettingsError, match="cannot read NODE_KEY_SSM_PARAM"):
        load_node_key(Settings.from_env({"NODE_KEY_SSM_PARAM": name + "-missing"}))


def test_first_run_generates_a_private_key_file_and_the_next_run_reuses_it(tmp_path):
    settings = Settings.from_env({"DATA_DIR": str(tmp_path)})
    first = load_node_key(settings)
    path = tmp_path / KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_node_key(settings).public_hex == first.public_hex


def test_a_restarted_node_process_keeps_its_generated_identity(tmp_path, node_factory):
    no_daemon = f"/ip4/127.0.0.1/tcp/{free_port()}/http"
    node = node_factory(no_daemon, name="keyed")
    first = node.get("/api/status").json()["nodeId"]
    node.stop()
    restarted = node_factory(no_daemon, name="keyed")
    assert restarted.get("/api/status").json()["nodeId"] == first
    assert (tmp_path / "keyed" / KEY_FILE_NAME).exists()
