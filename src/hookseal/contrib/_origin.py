"""The trusted origin of a signed URL, for the WSGI adapters (Django, Flask).

Schemes that sign the request URL (``Scheme.signs_url``: Twilio, RFC 9421) need the URL the
sender addressed. Rebuilt from the request's ``Host`` header it is the client's claim: a
delivery captured from another deployment that uses the same account token and path would
verify here too. The adapters therefore build it from configuration: ``public_url``, or the
framework's own list of host names when that list names exact hosts only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .._errors import ConfigurationError
from .._verifier import Verifier

__all__ = ["check_public_url", "exact_hosts", "signs_url"]

_PUBLIC_URL = re.compile(r"https?://[^/?#@\s]+(/[^?#\s]*)?")


def signs_url(verifier: Verifier) -> bool:
    """Whether ``verifier``'s scheme declares that its signature covers the request URL."""
    return verifier.scheme.signs_url


def check_public_url(public_url: object, where: str = "public_url") -> str | None:
    """Validate ``public_url`` (``http(s)://host[/prefix]``, no query); return it without ``/``."""
    if public_url is None:
        return None
    if (
        not isinstance(public_url, str)
        or not public_url.isascii()
        or _PUBLIC_URL.fullmatch(public_url) is None
    ):
        raise ConfigurationError(
            f"{where} must be the public base URL the sender addresses, such as "
            "'https://hooks.example.com' (optionally with a path prefix), without query."
        )
    return public_url.rstrip("/")


def exact_hosts(hosts: object) -> bool:
    """Whether ``hosts`` is a non-empty list of exact host names (no ``*``, no ``.suffix``).

    A wildcard or a leading-dot pattern (every subdomain) lets a request name another
    deployment's host, so such a list is no trusted origin for a signed URL.
    """
    if isinstance(hosts, str) or not isinstance(hosts, Iterable):
        return False
    names = list(hosts)
    return bool(names) and all(
        isinstance(name, str) and name and "*" not in name and not name.startswith(".")
        for name in names
    )
