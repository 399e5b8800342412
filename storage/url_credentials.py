"""URLs as they may be shown: an operator may put credentials in ``IPFS_API`` or
``PIN_SERVICE_URL`` (``http://user:password@host``), and those URLs appear in errors and log
lines, which are read by more people than the configuration."""

from urllib.parse import urlsplit, urlunsplit


def without_password(url: str) -> str:
    """``url`` with the password of its userinfo replaced by ``***`` (unchanged without one)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
