"""Secrets kept in SSM Parameter Store (SecureString) rather than in the function's
environment: ``API_TOKENS_SSM_PARAM``, ``IPFS_API_AUTH_SSM_PARAM`` and
``PIN_SERVICE_TOKEN_SSM_PARAM``, read once at start like ``NODE_KEY_SSM_PARAM``. A value set
directly (``API_TOKENS``, ``IPFS_API_AUTH``, ``PIN_SERVICE_TOKEN``) wins."""

import dataclasses

from node.settings import Settings, SettingsError, split_list


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


def with_secrets(settings: Settings) -> Settings:
    changes: dict[str, object] = {}
    if not settings.api_tokens and settings.api_tokens_ssm_param:
        value = ssm_secret("API_TOKENS_SSM_PARAM", settings.api_tokens_ssm_param)
        changes["api_tokens"] = frozenset(split_list(value))
    if not settings.ipfs_api_auth and settings.ipfs_api_auth_ssm_param:
        value = ssm_secret("IPFS_API_AUTH_SSM_PARAM", settings.ipfs_api_auth_ssm_param)
        changes["ipfs_api_auth"] = value.strip() or None
    return dataclasses.replace(settings, **changes) if changes else settings
