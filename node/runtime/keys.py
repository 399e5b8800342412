"""Where the node's key comes from: NODE_KEY, NODE_KEY_FILE, an SSM parameter, or a key
generated into DATA_DIR on first run."""

import logging

from crypto import CryptoError, NodeKey
from node.settings import Settings, SettingsError

log = logging.getLogger(__name__)

KEY_FILE_NAME = "node.key"


def _from_ssm(name: str) -> NodeKey:
    import boto3  # only on Lambda-style deployments; keeps boto3 out of local start-up

    try:
        value = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)
    except Exception as exc:
        raise SettingsError(f"cannot read NODE_KEY_SSM_PARAM {name!r}: {exc}") from exc
    return NodeKey.from_base64(value["Parameter"]["Value"])


def load_node_key(settings: Settings) -> NodeKey:
    try:
        if settings.node_key:
            return NodeKey.from_base64(settings.node_key)
        if settings.node_key_file:
            return NodeKey.load(settings.node_key_file)
        if settings.node_key_ssm_param:
            return _from_ssm(settings.node_key_ssm_param)
        path = settings.data_dir / KEY_FILE_NAME
        if path.exists():
            return NodeKey.load(path)
        key = NodeKey.generate()
        key.save(path)
        log.info("generated a new node key in %s", path)
        return key
    except CryptoError as exc:
        raise SettingsError(f"node key: {exc}") from exc
