"""Reading the proxy chain from ``X-Forwarded-For`` or RFC 7239 ``Forwarded`` header lines.

Both parsers are linear in the input, refuse rather than guess (an unterminated quoted string
in ``Forwarded`` could otherwise swallow the element a proxy appended after it), and are only
called once the number of entries has been bounded by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ._errors import ForbiddenAddress

__all__ = ["Hop", "header_lines", "parse_forwarded", "parse_x_forwarded_for"]

#: One proxy hop: the address text to read (None when the node is not an address, such as
#: ``unknown`` or an obfuscated ``_hidden``), and the entry as sent, for error messages.
Hop = tuple[str | None, str]

_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_OWS = " \t"
_PORT = re.compile(r"[0-9]{1,5}|_[A-Za-z0-9._-]+", re.ASCII)


def _malformed(header: str, detail: str) -> ForbiddenAddress:
    return ForbiddenAddress(
        f"The {header} header is malformed ({detail}), so the client address cannot be resolved.",
        reason="malformed_address",
    )


def _as_text(value: object, header: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    raise _malformed(header, f"a value of type {type(value).__name__}")


def header_lines(headers: Mapping[str, str], name: str) -> list[str]:
    """Every line of header ``name`` (lower case) in arrival order.

    Uses ``get_all`` (:class:`hookseal.Headers`, Werkzeug) or ``getlist`` (Starlette) when the
    mapping keeps repeated lines; a plain mapping is searched case-insensitively, and one that
    holds the name under several spellings is refused, since their order is unknowable.
    """
    get_all = getattr(headers, "get_all", None)
    if not callable(get_all):
        get_all = getattr(headers, "getlist", None)
    if callable(get_all):
        values = get_all(name)
        if values is None:
            return []
        if isinstance(values, (str, bytes)):
            values = [values]
        return [_as_text(value, name) for value in values]
    found: list[object] = []
    items: Iterable[tuple[object, object]] = headers.items()
    for key, item in items:
        if isinstance(key, (str, bytes)) and _as_text(key, name).lower() == name:
            found.append(item)
    if len(found) > 1:
        raise _malformed(name, "the header appears under several spellings of its name")
    if not found:
        return []
    value = found[0]
    if isinstance(value, (list, tuple)):
        return [_as_text(item, name) for item in value]
    return [_as_text(value, name)]


def parse_x_forwarded_for(lines: list[str]) -> list[Hop]:
    """The comma-separated entries of every line, left to right, empty entries skipped."""
    hops: list[Hop] = []
    for line in lines:
        for item in line.split(","):
            entry = item.strip(_OWS)
            if entry:
                hops.append((entry, entry))
    return hops


def parse_forwarded(lines: list[str]) -> list[Hop]:
    """The ``for=`` node of every element of every line, left to right (RFC 7239)."""
    hops: list[Hop] = []
    for line in lines:
        for node in _forwarded_for_nodes(line):
            hops.append((_node_address(node), node))
    return hops


def _forwarded_for_nodes(line: str) -> list[str]:
    """The ``for`` value of each element of one line (``""`` for an element without one)."""
    nodes: list[str] = []
    i, n = 0, len(line)
    while i < n:
        i = _skip_ows(line, i)
        if i < n and line[i] == ",":  # an empty element
            i += 1
            continue
        if i >= n:
            break
        node, i = _element(line, i)
        nodes.append("" if node is None else node)
    return nodes


def _skip_ows(line: str, i: int) -> int:
    while i < len(line) and line[i] in _OWS:
        i += 1
    return i


def _token_end(line: str, i: int) -> int:
    while i < len(line) and line[i] in _TOKEN:
        i += 1
    return i


def _element(line: str, i: int) -> tuple[str | None, int]:
    """One element's ``for`` value (None without one) and where the element ends."""
    n = len(line)
    node: str | None = None
    while True:
        i = _skip_ows(line, i)
        if i < n and line[i] == ";":  # an empty pair
            i += 1
            continue
        if i >= n or line[i] == ",":
            return node, i
        name, value, i = _pair(line, i)
        if name == "for":
            if node is not None:
                raise _malformed("Forwarded", "an element names 'for' twice")
            node = value
        i = _skip_ows(line, i)
        if i < n and line[i] == ";":
            i += 1
        elif i < n and line[i] != ",":
            raise _malformed("Forwarded", "unexpected text after a parameter")


def _pair(line: str, i: int) -> tuple[str, str, int]:
    """``name=value`` at ``i`` (the value a token or a quoted string): name, value, end."""
    end = _token_end(line, i)
    name = line[i:end].lower()
    if not name or end >= len(line) or line[end] != "=":
        raise _malformed("Forwarded", "a parameter is not of the form name=value")
    i = end + 1
    if i < len(line) and line[i] == '"':
        return (name, *_quoted_string(line, i + 1))
    end = _token_end(line, i)
    if end == i:
        raise _malformed("Forwarded", f"the parameter {name!r} has no value")
    return name, line[i:end], end


def _quoted_string(line: str, i: int) -> tuple[str, int]:
    """The quoted string whose opening quote precedes ``i``, unescaped, and where it ends."""
    chars: list[str] = []
    n = len(line)
    while i < n:
        char = line[i]
        if char == '"':
            return "".join(chars), i + 1
        if char == "\\":
            i += 1
            if i >= n:
                break
            char = line[i]
        chars.append(char)
        i += 1
    raise _malformed("Forwarded", "an unterminated quoted string")


def _node_address(node: str) -> str | None:
    """The address in a ``for`` node: ``a.b.c.d[:port]`` or ``"[v6][:port]"``; else None."""
    if node.startswith("["):
        close = node.find("]")
        if close < 0:
            return None
        inner, rest = node[1:close], node[close + 1 :]
        if ":" not in inner:
            return None
    elif node.count(":") <= 1:
        inner, colon, port = node.partition(":")
        rest = colon + port
    else:
        return None  # an unbracketed IPv6 address is not a valid node
    if rest and (not rest.startswith(":") or _PORT.fullmatch(rest[1:]) is None):
        return None
    return inner or None
