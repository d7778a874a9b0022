"""What the schemes verified with published keys share: their secrets and their key fetches.

Amazon SNS, Google Pub/Sub and Microsoft Graph are verified with keys their providers
publish; what the user configures is not a secret but the names this endpoint accepts (topic
ARNs, audiences, app ids). Each takes one name or a list, never an empty one, and checks every
name at construction. Their keys are fetched through :class:`~hookseal.PublishedKeys`, in the
background when the check runs on an event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .._errors import ConfigurationError
from ..published_keys import (
    PublishedKeys,
    URLRule,
    running_on_event_loop,
    shared_published_keys,
)

__all__ = [
    "accepted_names",
    "check_keys_url",
    "fetch_published",
    "published_keys_or_shared",
]

_T = TypeVar("_T")


def accepted_names(
    values: object,
    valid: Callable[[Any], bool],
    *,
    not_a_list: str,
    empty: str,
    invalid: str,
) -> list[Any]:
    """``values`` (one str or an iterable) as a list, each checked with ``valid``.

    Raises ConfigurationError with ``not_a_list`` when ``values`` is not iterable, ``empty``
    when it holds nothing, and ``invalid`` when ``valid`` refuses an item.
    """
    items = [values] if isinstance(values, str) else values
    try:
        names: list[Any] = list(items)  # type: ignore[call-overload]
    except TypeError:
        raise ConfigurationError(not_a_list) from None
    if not names:
        raise ConfigurationError(empty)
    for name in names:
        if not valid(name):
            raise ConfigurationError(invalid)
    return names


def fetch_published(
    keys: PublishedKeys,
    url: str,
    rule: URLRule,
    load: Callable[[bytes], _T],
    accept: Callable[[_T], bool] | None = None,
) -> _T:
    """The published document at ``url``, from ``keys``'s cache or fetched.

    On an event loop the fetch never blocks it: ``get_in_background`` answers from the cache
    or refuses for now (``aprepare`` fetches first); elsewhere ``get`` fetches in place.
    """
    if running_on_event_loop():
        return keys.get_in_background(url, rule, load, accept=accept)
    return keys.get(url, rule, load, accept=accept)


def published_keys_or_shared(published_keys: object) -> PublishedKeys:
    """The ``published_keys`` a scheme was given, or the process-wide cache for None."""
    if published_keys is not None and not isinstance(published_keys, PublishedKeys):
        raise ConfigurationError("published_keys must be a PublishedKeys instance.")
    return published_keys or shared_published_keys()


def check_keys_url(
    keys: PublishedKeys, name: str, url: str, default: str, rule: URLRule, provider: str
) -> None:
    """Refuse a key URL other than the provider's ``default`` unless ``keys`` allows its host.

    Only tests point a scheme elsewhere (a local server listed in ``allow_hosts``): keys from
    any other host would let whoever serves them sign deliveries.
    """
    if url != default and keys.url_problem(url, rule):
        raise ConfigurationError(
            f"{name} may only differ from {provider}'s in tests, on a host listed in "
            "PublishedKeys(allow_hosts=...)."
        )
