"""Request headers: case-insensitive lookup, duplicate detection and size caps.

Verification takes headers in two shapes. A plain ``Mapping[str, str]`` (a dict, or a
framework's own case-insensitive header object) can hold only one value per name, so it is
read without being copied. :class:`Headers`, which adapters build from the header lines
that arrived, keeps every line, so a header sent twice is detected and refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from ._errors import MalformedHeader

__all__ = ["HeaderName", "Headers", "read_header", "single_lines_reader"]


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("latin-1")
    # Not TypeError: verify() builds Headers from what it is given and raises only
    # VerificationError. (An int must not become NUL bytes through bytes(int) either.)
    raise MalformedHeader(
        f"A header name or value is a {type(value).__name__}, not str or bytes.",
    )


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued request headers built from the lines that arrived.

    ``headers["X-Name"]`` joins repeated lines with ``", "`` as HTTP does; signature schemes
    read headers through :func:`read_header`, which refuses a repeated line instead.
    Names and values may be given as ``str`` or as ``bytes`` (decoded as Latin-1, so non-ASCII
    bytes survive to be refused by the strict checks rather than crashing a decoder). Anything
    else (a number, None, a line that is not a pair) raises :class:`MalformedHeader`.
    """

    __slots__ = ("_lines",)

    def __init__(
        self,
        lines: Iterable[tuple[str | bytes, str | bytes]] | Mapping[str, str] = (),
        *,
        _decoded: dict[str, list[str]] | None = None,
    ) -> None:
        if _decoded is not None:
            # The private path of from_asgi: lines it has already decoded and keyed.
            self._lines = _decoded
            return
        store: dict[str, list[str]] = {}
        try:
            items = iter(lines.items() if isinstance(lines, Mapping) else lines)
            for line in items:
                name, value = line
                store.setdefault(_text(name).lower(), []).append(_text(value))
        except (TypeError, ValueError):
            raise MalformedHeader(
                "Headers must be a mapping or an iterable of (name, value) pairs of str or bytes."
            ) from None
        self._lines = store

    @classmethod
    def from_asgi(cls, raw: Iterable[tuple[bytes, bytes]]) -> Headers:
        """Headers from an ASGI ``scope["headers"]`` list of ``(name, value)`` byte pairs.

        The same result as ``Headers(raw)``, every repeated line kept (so a header sent
        twice is refused by the schemes), built in one pass when no name repeats, which is
        every genuine delivery. Anything else (a repeated name, ``str`` or ``bytearray``
        lines, a line that is not a pair) is handed to ``Headers(raw)`` itself, so it is
        kept, decoded or refused exactly as the constructor does.

        Raises:
            MalformedHeader: a line is not a pair of ``str`` or ``bytes``.
        """
        if type(raw) is list:
            known = _ASGI_NAMES.get
            try:
                lines = {
                    known(name) or name.decode("latin-1").lower(): [value.decode("latin-1")]
                    for name, value in raw
                }
            except (AttributeError, TypeError, ValueError):  # not pairs of bytes
                return cls(raw)
            if len(lines) == len(raw):  # no name repeats
                return cls(_decoded=lines)
        return cls(raw)

    def get_all(self, name: str) -> list[str]:
        """Every line received for ``name``, in arrival order (empty if absent)."""
        return list(self._lines.get(name.lower(), ()))

    def one(self, name: str) -> str | None:
        """The single value of ``name`` or None; a repeated header raises MalformedHeader."""
        values = self._lines.get(name)
        if values is None:
            values = self._lines.get(name.lower())
            if values is None:
                return None
        if len(values) != 1:
            raise MalformedHeader(
                f"The {name!r} header was sent {len(values)} times; exactly one is allowed.",
                reason="duplicate_header",
                header=name,
            )
        return values[0]

    def single(self, lower_name: str) -> str | None:
        """The value of ``lower_name`` (already lowercase) when it was sent exactly once.

        None when it is absent or repeated: for fast checks, which only accept or decline
        (the general check then reads the header with :meth:`one` and says what is wrong).
        """
        values = self._lines.get(lower_name)
        if values is not None and len(values) == 1:
            return values[0]
        return None

    def __getitem__(self, name: str) -> str:
        return ", ".join(self._lines[name.lower()])

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lines

    def __iter__(self) -> Iterator[str]:
        return iter(self._lines)

    def __len__(self) -> int:
        return len(self._lines)

    def __repr__(self) -> str:
        return f"Headers(<{len(self._lines)} names; values not shown>)"


#: Header names as ASGI servers send them (lower-case bytes), mapped to the text ``Headers``
#: keys them by: :meth:`Headers.from_asgi` skips decoding these. Generic names most requests
#: carry, plus every :class:`HeaderName` a scheme declares (added when it is created). Nothing
#: a client sends is ever added to it, so it is bounded by the code and its configuration.
_ASGI_NAMES: dict[bytes, str] = {
    name.encode("ascii"): name
    for name in (
        "accept",
        "accept-encoding",
        "connection",
        "content-length",
        "content-type",
        "host",
        "traceparent",
        "user-agent",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-real-ip",
        "x-request-id",
    )
}


class HeaderName:
    """A header a scheme reads: its lower-case name plus spellings tried first on plain dicts."""

    __slots__ = ("lower", "name", "spellings")

    def __init__(self, name: str) -> None:
        self.name = name
        self.lower = name.lower()
        if self.lower.isascii():  # a name the code declares, never one a client sent
            _ASGI_NAMES.setdefault(self.lower.encode("ascii"), self.lower)
        title = "-".join(part[:1].upper() + part[1:] for part in self.lower.split("-"))
        self.spellings = tuple(dict.fromkeys((self.lower, name, title)))

    def __repr__(self) -> str:
        return f"HeaderName({self.name!r})"


def single_lines_reader(*names: HeaderName) -> Callable[[Mapping[str, str]], tuple[object, ...]]:
    """For fast checks: a reader of these headers' values, each as :func:`read_header` finds it.

    ``read(headers)`` gives, for each name in order, the line sent exactly once (from
    :class:`Headers`) or the value under the first of the name's spellings a plain mapping
    holds (the spellings :func:`read_header` tries first, in its order); None when it is
    absent, repeated or under another spelling. A fast check declines on None, and the
    general check, which reads the headers with :func:`read_header`, says what is wrong. The
    values are not checked: the fast check checks what it uses.
    """
    lowers = tuple(name.lower for name in names)

    def spelled(headers: Mapping[str, str]) -> tuple[object, ...]:
        if type(headers) is Headers:
            return tuple(map(headers.single, lowers))
        return tuple(_first_spelling(headers, name) for name in names)

    # Written out for the one, two and three headers fast checks read: this runs on every
    # delivery, where a loop costs more than the lookups. A plain mapping is tried under the
    # lower-case name, then under the declared one (the first two spellings read_header
    # tries, in its order); anything else is looked up by spelled().
    if len(names) == 1:
        (a,) = names

        def read_one(headers: Mapping[str, str]) -> tuple[object, ...]:
            if type(headers) is Headers:
                return (headers.single(a.lower),)
            get = headers.get
            one = get(a.lower)
            if one is None and (one := get(a.name)) is None:
                return spelled(headers)
            return (one,)

        return read_one
    if len(names) == 2:
        a, b = names

        def read_two(headers: Mapping[str, str]) -> tuple[object, ...]:
            if type(headers) is Headers:
                single = headers.single
                return single(a.lower), single(b.lower)
            get = headers.get
            one = get(a.lower)
            two = get(b.lower)
            if (one is None and (one := get(a.name)) is None) or (
                two is None and (two := get(b.name)) is None
            ):
                return spelled(headers)
            return one, two

        return read_two
    if len(names) == 3:
        a, b, c = names

        def read_three(headers: Mapping[str, str]) -> tuple[object, ...]:
            if type(headers) is Headers:
                single = headers.single
                return single(a.lower), single(b.lower), single(c.lower)
            get = headers.get
            one = get(a.lower)
            two = get(b.lower)
            three = get(c.lower)
            if (
                (one is None and (one := get(a.name)) is None)
                or (two is None and (two := get(b.name)) is None)
                or (three is None and (three := get(c.name)) is None)
            ):
                return spelled(headers)
            return one, two, three

        return read_three
    return spelled


def _first_spelling(headers: Mapping[str, str], name: HeaderName) -> object:
    get = headers.get
    for spelling in name.spellings:
        value = get(spelling)
        if value is not None:
            return value
    return None


def read_header(headers: Mapping[str, str], name: HeaderName, max_length: int) -> str | None:
    """Return the value of one header, or None when it is absent or blank.

    Raises MalformedHeader when the header was sent more than once (``duplicate_header``), is
    longer than ``max_length`` (``header_too_long``), or holds anything but printable ASCII
    (``malformed_header``).
    """
    if type(headers) is Headers:
        value: object = headers.one(name.lower)
    else:
        value = _first_spelling(headers, name)
        if value is None:
            lower = name.lower
            for key in headers:
                if isinstance(key, str) and key.lower() == lower:
                    value = headers[key]
                    break
    if value is None:
        return None
    if type(value) is not str:
        if not isinstance(value, (bytes, bytearray)):
            raise MalformedHeader(f"The {name.name!r} header is not text.", header=name.name)
        value = bytes(value).decode("latin-1")
    assert isinstance(value, str)
    if len(value) > max_length:
        raise MalformedHeader(
            f"The {name.name!r} header is {len(value)} characters long; the limit is "
            f"{max_length} (max_header_bytes).",
            reason="header_too_long",
            header=name.name,
        )
    if not value.isascii() or not value.isprintable():
        raise MalformedHeader(
            f"The {name.name!r} header holds non-ASCII or control characters.",
            header=name.name,
        )
    if not value or value.isspace():
        return None
    return value
