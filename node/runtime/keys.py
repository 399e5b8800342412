"""Where the node's key comes from: NODE_KEY, NODE_KEY_FILE, an SSM parameter, or a key
generated into DATA_DIR on first run."""

import logging

from crypto import CryptoError, NodeKey
from node.runtime.secrets import ssm_secret
from node.settings import Settings, SettingsError

log = logging.getLogger(__name__)

KEY_FILE_NAME = "node.key"


def load_node_key(settings: Settings) -> NodeKey:
    try:
        if settings.node_key:
            return NodeKey.from_base64(settings.node_key)
        if settings.node_key_file:
            return NodeKey.load(settings.node_key_file)
        if settings.node_key_ssm_param:
            secret = ssm_secret("NODE_KEY_SSM_PARAM", settings.node_key_ssm_param)
            return NodeKey.from_base64(secret)
        path = settings.data_dir / KEY_FILE_NAME
        if path.exists():
            return NodeKey.load(path)
        key = NodeKey.generate()
        key.save(path)
        log.info("generated a new node key in %s", path)
        return key
    except CryptoError as exc:
        raise SettingsError(f"node key: {exc}") from exc
