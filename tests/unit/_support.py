"""Constants and small helpers shared by the core unit tests."""

from __future__ import annotations

NOW = 1_700_000_000
SECRET = "s3cr3t-for-tests"
BODY = b'{"event":"ping","id":42}'

#: Every HMACScheme option combination the round-trip tests cover: (id, options).
SCHEME_OPTIONS: list[tuple[str, dict[str, object]]] = [
    ("hex-sha256", {}),
    ("hex-prefix", {"prefix": "sha256="}),
    ("base64-sha256", {"encoding": "base64"}),
    ("base64-prefix", {"encoding": "base64", "prefix": "v1="}),
    ("sha384", {"algorithm": "sha384"}),
    ("sha512-base64", {"algorithm": "sha512", "encoding": "base64"}),
    ("sha1-allowed", {"algorithm": "sha1", "allow_sha1": True, "prefix": "sha1="}),
    (
        "timestamp-template",
        {"timestamp_header": "X-Timestamp", "template": "{timestamp}.{body}"},
    ),
    (
        "id-timestamp-template",
        {
            "encoding": "base64",
            "timestamp_header": "X-Timestamp",
            "id_header": "X-Id",
            "template": "{id}.{timestamp}.{body}",
        },
    ),
    ("id-header-unsigned", {"id_header": "X-Id"}),
    ("id-only-template", {"id_header": "X-Id", "template": "{id}:{body}"}),
    (
        "unsigned-timestamp-allowed",
        {"timestamp_header": "X-Timestamp", "allow_unsigned_timestamp": True},
    ),
    (
        "literal-template",
        {
            "timestamp_header": "X-Timestamp",
            "id_header": "X-Id",
            "template": "v1:{id}:{timestamp}:{body}",
        },
    ),
]


class MacCounter:
    """Counts HMAC computations by wrapping the real HMACKey methods (they still run)."""

    def __init__(self) -> None:
        self.calls = 0
