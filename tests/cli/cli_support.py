"""Run the ``hookseal`` command in a subprocess and check its output for leaks."""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from hookseal import Signer
from hookseal.schemes._registry import scheme_by_name

SECRET_ENV = "HOOKSEAL_TEST_SECRET"


def console_script() -> str:
    """The installed ``hookseal`` console script next to this interpreter (or on PATH)."""
    beside = Path(sys.executable).with_name("hookseal")
    if beside.exists():
        return str(beside)
    found = shutil.which("hookseal")
    assert found is not None, "the hookseal console script is not installed"
    return found


ENTRY_POINTS = {
    "python -m hookseal": [sys.executable, "-m", "hookseal"],
    "console script": [console_script()],
}


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run(
    args: list[str],
    *,
    body: bytes = b"",
    secret: str | bytes | None = None,
    command: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> Result:
    """Run ``hookseal args...`` with ``body`` on stdin and the secret in $HOOKSEAL_TEST_SECRET."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HOOKSEAL_")}
    environment.update(env or {})
    if secret is not None:
        text = secret.decode("latin-1") if isinstance(secret, bytes) else secret
        environment[SECRET_ENV] = text
    process = subprocess.run(
        [*(command or ENTRY_POINTS["python -m hookseal"]), *args],
        input=body,
        capture_output=True,
        env=environment,
        timeout=30,
        check=False,
    )
    return Result(
        process.returncode,
        process.stdout.decode("utf-8", "replace"),
        process.stderr.decode("utf-8", "replace"),
    )


def header_args(headers: dict[str, str]) -> list[str]:
    args: list[str] = []
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    return args


def _token_forms(token: str) -> set[str]:
    """A signature-like token in every spelling it could leak in (as sent, hex, base64)."""
    forms = {token}
    decoded: list[bytes] = []
    if re.fullmatch(r"[0-9a-fA-F]+", token) and len(token) % 2 == 0:
        decoded.append(bytes.fromhex(token))
    with contextlib.suppress(binascii.Error, ValueError):
        decoded.append(base64.b64decode(token, validate=True))
    for raw in decoded:
        forms |= {raw.hex(), base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
    return {form for form in forms if len(form) >= 16}


def expected_signatures(
    scheme: str,
    secret: str | bytes,
    body: bytes,
    *,
    timestamp: int,
    msg_id: str = "msg_cli_test",
    url: str | None = None,
) -> set[str]:
    """What a verifier configured with ``secret`` expects for ``body``: it must never leak."""
    headers = Signer(scheme_by_name(scheme), secret).sign(
        body, timestamp=timestamp, msg_id=msg_id, url=url
    )
    return signature_tokens(headers)


def signature_tokens(headers: dict[str, str]) -> set[str]:
    """Every signature-like token in ``headers`` values, in each spelling it could leak in."""
    forms: set[str] = set()
    for value in headers.values():
        for token in re.split(r"[ ,=]+(?=[A-Za-z0-9+/_-]{16,})|^[a-z0-9]+=", value):
            forms |= _token_forms(token.strip().removeprefix("v1,"))
    return forms


def secret_forms(secret: str | bytes) -> set[str]:
    """The secret and the parts of it that would give it away."""
    text = secret.decode("latin-1") if isinstance(secret, bytes) else secret
    forms = {text}
    if text.startswith("whsec_"):
        forms.add(text[len("whsec_") :])
    return {form for form in forms if len(form) >= 8}


def assert_no_leak(
    result: Result, *secrets: str | bytes, signatures: set[str] = frozenset()
) -> None:
    output = result.output
    for secret in secrets:
        for form in secret_forms(secret):
            assert form not in output, "a secret leaked into the output"
    for signature in signatures:
        assert signature not in output, "an expected signature leaked into the output"
