"""Where the node's key comes from: NODE_KEY, NODE_KEY_FILE, an SSM parameter, or a key
generated into DATA_DIR on first run; and the pinning service's token, inline or from SSM."""

import logging

from crypto import CryptoError, NodeKey
from node.settings import Settings, SettingsError

log = logging.getLogger(__name__)

KEY_FILE_NAME = "node.key"


def ssm_secret(variable: str, name: str) -> str:
    """The value of an SSM SecureString; ``variable`` names the setting in errors."""
    import boto3  # only on Lambda-style deployments; keeps boto3 out of local start-up

    try:
        value = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)
    except Exception as exc:
        raise SettingsError(f"cannot read {variable} {name!r}: {exc}") from exc
    return str(value["Parameter"]["Value"])


def pin_service_token(settings: Settings) -> str | None:
    """PIN_SERVICE_TOKEN, or the SecureString named by PIN_SERVICE_TOKEN_SSM_PARAM."""
    if settings.pin_service_token:
        return settings.pin_service_token
    if settings.pin_service_token_ssm_param:
        return ssm_secret("PIN_SERVICE_TOKEN_SSM_PARAM", settings.pin_service_token_ssm_param)
    return None


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
