"""RFC 9421 covered components: identifiers, their values in a request, and the signature base.

Everything here reads attacker-controlled input, so each step is strict and bounded: component
identifiers must be lower-case Strings with only the parameters the RFC defines for them, field
values must be ASCII without control characters, and anything that cannot be derived raises a
:class:`~hookseal.VerificationError` (never a ``ValueError`` or ``KeyError``): every ``http-sf``
parse and serialisation is wrapped, since the serialiser refuses values its parser accepts (an
empty Dictionary or List). Every step is linear in its input (no backtracking regular
expression reads header text), and the header fields one signature covers may hold at most
``max_header_bytes`` characters together, checked before any of them is parsed.

Only request components are supported (a webhook receiver verifies requests): ``@status`` and
the ``req`` and ``tr`` parameters are refused.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from itertools import repeat
from typing import Any

from .._errors import MalformedHeader, SignatureMismatch
from .._headers import Headers

__all__ = [
    "DERIVED_COMPONENTS",
    "Component",
    "RequestContext",
    "parse_component",
    "parse_component_spec",
    "serialize",
    "signature_base",
    "unfold",
]

#: The derived components this module can compute for a request.
DERIVED_COMPONENTS = frozenset(
    {
        "@method",
        "@target-uri",
        "@authority",
        "@scheme",
        "@request-target",
        "@path",
        "@query",
        "@query-param",
    }
)
_FIELD_PARAMS = frozenset({"sf", "key", "bs"})
_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_MAX_FIELD_LINES = 32
_MAX_QUERY_FIELDS = 256
#: Structured-field types of the fields RFC 9421 and RFC 9530 define (http-sf knows the rest).
_SF_TYPES = {
    "signature": "dictionary",
    "signature-input": "dictionary",
    "content-digest": "dictionary",
    "repr-digest": "dictionary",
    "want-content-digest": "dictionary",
    "want-repr-digest": "dictionary",
    "accept-signature": "dictionary",
}


def _sf() -> Any:
    import http_sf

    return http_sf


def _malformed(message: str, header: str) -> MalformedHeader:
    return MalformedHeader(message, header=header)


def serialize(value: object, what: str, header: str) -> str:
    """``http-sf``'s serialisation of a parsed value; its refusals become MalformedHeader.

    The serialiser refuses values the parser produces (an empty or blank Dictionary or List
    field parses to an empty container, which "should not be emitted"), and a foreign
    exception here would be a 500 before any signature is checked.
    """
    try:
        if isinstance(value, tuple):
            from http_sf.innerlist import ser_item_or_inner_list

            return str(ser_item_or_inner_list(value))
        return str(_sf().ser(value))
    except Exception:  # every serialiser refusal is the sender's malformed header
        raise MalformedHeader(
            f"The {what} cannot be serialised as a structured field (an empty or blank "
            "Dictionary or List, for example).",
            header=header,
        ) from None


def unfold(line: str) -> str:
    """``line`` with each obs-fold (SP/HTAB, CRLF, SP/HTAB) replaced by one space, stripped.

    Linear in the length of ``line`` (the regular expression this replaces was quadratic in a
    run of spaces or tabs). A CR or LF that is not part of an obs-fold is left in place, so
    the caller's control-character check refuses it.
    """
    if "\n" not in line and "\r" not in line:
        return line.strip(" \t")
    if line.count("\r\n") != line.count("\r\n ") + line.count("\r\n\t"):
        return line  # a CR LF that is not an obs-fold: the caller's control check refuses it
    pieces = line.split("\r\n")
    return " ".join(map(str.strip, pieces, repeat(" \t", len(pieces)))).strip(" \t")


class Component:
    """One covered component identifier: a name plus its parameters, in the order received."""

    __slots__ = ("identifier", "name", "params")

    def __init__(self, name: str, params: dict[str, Any], identifier: str) -> None:
        self.name = name
        self.params = params
        #: The identifier serialized as a structured-field Item (the base line's left side).
        self.identifier = identifier

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Component) and other.identifier == self.identifier

    def __hash__(self) -> int:
        return hash(self.identifier)

    def __repr__(self) -> str:
        return f"Component({self.identifier})"


def parse_component(item: object, header: str) -> Component:
    """Validate one member of a Signature-Input inner list (an http-sf Item)."""
    if not isinstance(item, tuple) or len(item) != 2:
        raise _malformed(f"A covered component in {header!r} is not an Item.", header)
    name, params = item
    if type(name) is not str:
        raise _malformed(
            f'Covered components in {header!r} must be quoted strings such as "@method".',
            header,
        )
    if not isinstance(params, dict):  # pragma: no cover - http-sf always gives a dict
        raise _malformed(f"A covered component in {header!r} has malformed parameters.", header)
    if name.startswith("@"):
        _check_derived(name, params, header)
    else:
        _check_field(name, params, header)
    identifier = serialize((name, params), "covered component identifier", header)
    return Component(name, dict(params), identifier)


def _check_derived(name: str, params: dict[str, Any], header: str) -> None:
    """A derived component (``@method``...): supported, with only the parameters it takes."""
    if name not in DERIVED_COMPONENTS:
        raise _malformed(
            f"{header!r} covers the derived component {name!r}, which a request signature "
            "cannot use or this verifier does not support.",
            header,
        )
    allowed = {"name"} if name == "@query-param" else set()
    unknown = set(params) - allowed
    if unknown:
        raise _malformed(
            f"{header!r} gives the component {name!r} unsupported parameter(s) "
            f"{sorted(unknown)} (request signatures support no 'req' or 'tr').",
            header,
        )
    if name == "@query-param" and type(params.get("name")) is not str:
        raise _malformed(
            f"{header!r} covers '@query-param' without a string 'name' parameter.", header
        )


def _check_field(name: str, params: dict[str, Any], header: str) -> None:
    """A covered field: a lower-case token with only the sf, key and bs parameters."""
    if not _FIELD_NAME.fullmatch(name):
        raise _malformed(f"{header!r} covers a field name that is not a lower-case token.", header)
    unknown = set(params) - _FIELD_PARAMS
    if unknown:
        raise _malformed(
            f"{header!r} gives the field {name!r} unsupported parameter(s) "
            f"{sorted(unknown)} (supported: sf, key, bs).",
            header,
        )
    for flag in ("sf", "bs"):
        if flag in params and params[flag] is not True:
            raise _malformed(f"The {flag!r} parameter must be a bare flag.", header)
    if "key" in params and type(params["key"]) is not str:
        raise _malformed("The 'key' parameter must be a string.", header)
    if "bs" in params and ("sf" in params or "key" in params):
        raise _malformed("The 'bs' parameter cannot be combined with 'sf' or 'key'.", header)


def parse_component_spec(spec: object) -> Component:
    """Parse a configured component: ``"@method"``, ``"content-digest"`` or a serialized Item.

    ``'"@query-param";name="id"'`` and ``'"example-dict";key="a"'`` name components with
    parameters. Raises ValueError for anything else (callers turn it into ConfigurationError).
    """
    if not isinstance(spec, str) or not spec:
        raise ValueError("a component must be a non-empty string")
    text = spec if spec.startswith('"') else f'"{spec}"'
    try:
        item = _sf().parse(text.encode("ascii"), tltype="item")
    except Exception:
        raise ValueError(f"{spec!r} is not a component identifier") from None
    try:
        return parse_component(item, "required_components")
    except MalformedHeader as exc:
        raise ValueError(str(exc)) from None


class RequestContext:
    """The request a signature base is built from: method, URL and header lines."""

    __slots__ = (
        "_budget",
        "_headers",
        "_query",
        "_url",
        "max_line",
        "method",
        "structured_fields",
        "url",
    )

    def __init__(
        self,
        method: str | None,
        url: str | None,
        headers: Mapping[str, str],
        max_line: int,
        structured_fields: Mapping[str, str] | None = None,
    ) -> None:
        self.method = method
        self.structured_fields = structured_fields or {}
        self.url = url
        self._headers = headers
        self.max_line = max_line
        #: Characters the covered header fields of the current signature base may still hold.
        self._budget = max_line
        self._url: tuple[str, str, str, str | None] | None = None
        self._query: list[tuple[str, str]] | None = None

    # -- request line ------------------------------------------------------------------

    def _require_method(self) -> str:
        method = self.method
        if not method or not method.isascii() or not method.isprintable() or " " in method:
            raise SignatureMismatch(
                "The signature covers '@method' but verify() got no valid method=: pass the "
                "request's HTTP method."
            )
        return method

    def _parts(self) -> tuple[str, str, str, str | None]:
        """(scheme, authority, path, query or None), from the URL passed to verify()."""
        if self._url is not None:
            return self._url
        url = self.url
        if (
            not url
            or not isinstance(url, str)
            or not url.isascii()
            or not url.isprintable()
            or " " in url
        ):
            raise SignatureMismatch(
                "The signature covers a component of the request URL but verify() got no "
                "valid url=: pass the full URL the sender addressed (scheme, host, path, query)."
            )
        before_fragment = url.split("#", 1)[0]
        try:
            parts = urllib.parse.urlsplit(before_fragment)
        except ValueError:
            parts = None
        scheme = parts.scheme.lower() if parts else ""
        authority = parts.netloc.rpartition("@")[2] if parts else ""
        if parts is None or scheme not in _DEFAULT_PORTS or not authority:
            raise SignatureMismatch(
                "The url passed to verify() is not an absolute http(s) URL with a host."
            )
        query = parts.query if "?" in before_fragment else None
        self._url = (scheme, authority, parts.path or "/", query)
        return self._url

    def _authority(self) -> str:
        scheme, authority, _, _ = self._parts()
        authority = authority.lower()
        if not authority.endswith("]"):
            host, colon, port = authority.rpartition(":")
            if colon and (not port or port.lstrip("0") == _DEFAULT_PORTS[scheme]):
                authority = host
        return authority

    def _query_params(self) -> list[tuple[str, str]]:
        if self._query is None:
            query = self._parts()[3] or ""
            try:
                pairs = urllib.parse.parse_qsl(
                    query, keep_blank_values=True, max_num_fields=_MAX_QUERY_FIELDS
                )
            except ValueError:
                raise SignatureMismatch(
                    f"The URL's query has more than {_MAX_QUERY_FIELDS} parameters."
                ) from None
            self._query = [(_form_encode(name), _form_encode(value)) for name, value in pairs]
        return self._query

    def derived(self, component: Component) -> list[str]:
        """The value(s) of a derived component (several only for a repeated @query-param)."""
        name = component.name
        if name == "@method":
            return [self._require_method()]
        if name == "@authority":
            return [self._authority()]
        scheme, authority, path, query = self._parts()
        suffix = "" if query is None else "?" + query
        if name == "@target-uri":
            return [f"{scheme}://{authority}{path}{suffix}"]
        if name == "@scheme":
            return [scheme]
        if name == "@request-target":
            return [path + suffix]
        if name == "@path":
            return [path]
        if name == "@query":
            return ["?" + (query or "")]
        # @query-param (parse_component admits no other name)
        wanted = _form_encode(urllib.parse.unquote(component.params["name"]))
        values = [value for key, value in self._query_params() if key == wanted]
        if not values:
            raise SignatureMismatch(
                f"The signature covers the query parameter {component.params['name']!r}, which "
                "the URL passed to verify() does not have."
            )
        return values

    # -- header fields -----------------------------------------------------------------

    def start_base(self) -> None:
        """Start a signature base: its covered fields may hold ``max_line`` characters in all."""
        self._budget = self.max_line

    def field_lines(self, name: str, *, charge: bool = False) -> list[str] | None:
        """Every line of header field ``name`` (stripped, obs-fold removed), or None if absent.

        With ``charge``, the lines' length is taken from the current signature base's budget
        (see :meth:`start_base`) before any of them is processed.
        """
        headers = self._headers
        raw: list[object]
        if isinstance(headers, Headers):
            raw = list(headers.get_all(name))
        else:
            value = headers.get(name)
            if value is None:
                for key in headers:
                    if isinstance(key, str) and key.lower() == name:
                        value = headers[key]
                        break
            raw = [] if value is None else [value]
        if not raw:
            return None
        if len(raw) > _MAX_FIELD_LINES:
            raise MalformedHeader(
                f"The {name!r} header was sent in more than {_MAX_FIELD_LINES} lines.",
                header=name,
            )
        texts: list[str] = []
        for item in raw:
            line = bytes(item).decode("latin-1") if isinstance(item, (bytes, bytearray)) else item
            if not isinstance(line, str):
                raise MalformedHeader(f"The {name!r} header is not text.", header=name)
            if len(line) > self.max_line:
                raise MalformedHeader(
                    f"The {name!r} header is longer than {self.max_line} characters "
                    "(max_header_bytes).",
                    reason="header_too_long",
                    header=name,
                )
            texts.append(line)
        if charge:
            self._budget -= sum(len(line) for line in texts)
            if self._budget < 0:
                raise MalformedHeader(
                    f"The header fields the signature covers hold more than {self.max_line} "
                    "characters together (max_header_bytes).",
                    reason="header_too_long",
                    header=name,
                )
        lines = []
        for line in texts:
            text = unfold(line)
            if not text.isascii() or not text.replace("\t", " ").isprintable():
                raise MalformedHeader(
                    f"The covered {name!r} header holds non-ASCII or control characters.",
                    header=name,
                )
            lines.append(text)
        return lines

    def field(self, component: Component) -> str:
        """The value of a covered header field, with ``sf``/``key``/``bs`` applied."""
        name = component.name
        lines = self.field_lines(name, charge=True)
        if lines is None:
            raise SignatureMismatch(
                f"The signature covers the {name!r} header, which the request does not have.",
                header=name,
            )
        params = component.params
        if "bs" in params:
            return ", ".join(
                serialize(line.encode("ascii"), f"{name!r} header", name) for line in lines
            )
        value = ", ".join(lines)
        if "key" in params or "sf" in params:
            sf = _sf()
            tltype = "dictionary" if "key" in params else self.structured_fields.get(name)
            if tltype is None:
                tltype = _SF_TYPES.get(name)
            if tltype is None:
                tltype = sf.retrofit.get(name)
            if tltype is None:
                raise MalformedHeader(
                    f"The signature covers {name!r} with 'sf', but its structured type is unknown "
                    "to this verifier.",
                    header=name,
                )
            try:
                parsed = sf.parse(value.encode("ascii"), tltype=tltype)
            except Exception:
                raise MalformedHeader(
                    f"The covered {name!r} header is not a valid structured field.", header=name
                ) from None
            if "key" not in params:
                return serialize(parsed, f"covered {name!r} header", name)
            member = parsed.get(params["key"])
            if member is None:
                raise SignatureMismatch(
                    f"The signature covers the member {params['key']!r} of the {name!r} header, "
                    "which the header does not have.",
                    header=name,
                )
            return serialize(member, f"member {params['key']!r} of the {name!r} header", name)
        return value


def _form_encode(text: str) -> str:
    """Percent-encode with the form-urlencoded set, a space as %20 (RFC 9421 section 2.2.8)."""
    return urllib.parse.quote(text, safe="*").replace("~", "%7E")


def signature_base(components: list[Component], params_line: str, request: RequestContext) -> bytes:
    """The signature base: one ``identifier: value`` line per component, then @signature-params."""
    request.start_base()
    lines = []
    for component in components:
        if component.name.startswith("@"):
            values = request.derived(component)
        else:
            values = [request.field(component)]
        for value in values:
            lines.append(f"{component.identifier}: {value}")
    lines.append(f'"@signature-params": {params_line}')
    text = "\n".join(lines)
    if not text.isascii() or "\r" in text:  # pragma: no cover - ruled out by the checks above
        raise MalformedHeader("The signature base would hold non-ASCII characters.")
    return text.encode("ascii")
