"""Secrets kept in SSM Parameter Store (SecureString) rather than in the function's
environment: ``API_TOKENS_SSM_PARAM`` and ``IPFS_API_AUTH_SSM_PARAM``, read once at start like
``NODE_KEY_SSM_PARAM``. A value set directly (``API_TOKENS``, ``IPFS_API_AUTH``) wins."""

import dataclasses

from node.runtime.keys import ssm_secret
from node.settings import Settings, split_list


def with_secrets(settings: Settings) -> Settings:
    changes: dict[str, object] = {}
    if not settings.api_tokens and settings.api_tokens_ssm_param:
        value = ssm_secret("API_TOKENS_SSM_PARAM", settings.api_tokens_ssm_param)
        changes["api_tokens"] = frozenset(split_list(value))
    if not settings.ipfs_api_auth and settings.ipfs_api_auth_ssm_param:
        value = ssm_secret("IPFS_API_AUTH_SSM_PARAM", settings.ipfs_api_auth_ssm_param)
        changes["ipfs_api_auth"] = value.strip() or None
    return dataclasses.replace(settings, **changes) if changes else settings
