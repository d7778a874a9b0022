"""The ``hookseal`` command line: sign, verify and explain deliveries.

Secrets are read from an environment variable (``--secret-env NAME``) or a file
(``--secret-file PATH``), never from the command line, and are never printed.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Sequence

from ._errors import ConfigurationError, VerificationError
from ._explain import explain
from ._scheme_names import SCHEME_NAMES, scheme_by_name
from ._signer import Signer
from ._verifier import Verifier

__all__ = ["main"]

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2


def _secrets(args: argparse.Namespace) -> list[str | bytes]:
    found: list[str | bytes] = []
    for name in args.secret_env or ():
        value = os.environ.get(name)
        if value is None:
            raise ConfigurationError(f"The environment variable {name} is not set.")
        found.append(value)
    for path in args.secret_file or ():
        with open(path, "rb") as handle:
            raw = handle.read()
        if raw.endswith(b"\r\n"):
            raw = raw[:-2]
        elif raw.endswith(b"\n"):
            raw = raw[:-1]
        try:
            found.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            found.append(raw)
    if not found:
        raise ConfigurationError("Give the secret with --secret-env NAME or --secret-file PATH.")
    return found


def _headers(pairs: Sequence[str]) -> list[tuple[str, str]]:
    headers = []
    for pair in pairs:
        name, sep, value = pair.partition(":")
        if not sep or not name.strip():
            raise ConfigurationError(f"--header must look like 'Name: value', got {pair!r}.")
        headers.append((name.strip(), value.strip()))
    return headers


def _read_body(path: str | None) -> bytes:
    if path is not None:
        with open(path, "rb") as handle:
            return handle.read()
    return sys.stdin.buffer.read()


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scheme", required=True, choices=sorted(SCHEME_NAMES), help="the sender's scheme"
    )
    parser.add_argument(
        "--secret-env", action="append", metavar="NAME", help="read a secret from $NAME"
    )
    parser.add_argument(
        "--secret-file", action="append", metavar="PATH", help="read a secret from a file"
    )
    parser.add_argument("--body-file", metavar="PATH", help="read the body here, not stdin")
    parser.add_argument("--url", help="the full URL the sender addressed (Twilio)")


def _checker(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument(
        "--header",
        "-H",
        action="append",
        default=[],
        metavar="'Name: value'",
        help="a header of the delivery (repeat)",
    )
    parser.add_argument("--method", default="POST")
    parser.add_argument("--now", type=int, help="the time to verify at (Unix seconds)")
    parser.add_argument("--tolerance", type=int, default=300)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="hookseal", description="Sign, verify and diagnose webhook deliveries."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    sign = commands.add_parser("sign", help="print the headers that sign the body on stdin")
    _common(sign)
    sign.add_argument("--timestamp", type=int, help="Unix seconds (default: now)")
    sign.add_argument("--id", dest="msg_id", help="message id (default: random)")
    sign.add_argument(
        "--curl", metavar="URL", help="print a ready curl command posting to URL instead"
    )

    verify = commands.add_parser("verify", help="verify the delivery whose body is on stdin")
    _checker(verify)

    diagnose = commands.add_parser("explain", help="say why a delivery fails to verify")
    _checker(diagnose)
    return parser


def _run(args: argparse.Namespace) -> int:
    secrets = _secrets(args)
    body = _read_body(args.body_file)
    if args.command == "sign":
        signer = Signer(scheme_by_name(args.scheme), secrets[-1])
        headers = signer.sign(
            body, timestamp=args.timestamp, msg_id=args.msg_id, url=args.curl or args.url
        )
        if args.curl:
            parts = ["curl", "-X", "POST", args.curl]
            for name, value in headers.items():
                parts += ["-H", f"{name}: {value}"]
            parts += ["--data-binary", "@" + (args.body_file or "-")]
            print(" ".join(shlex.quote(part) for part in parts))
        else:
            for name, value in headers.items():
                print(f"{name}: {value}")
        return EXIT_OK
    headers_in = _headers(args.header)
    now = float(args.now) if args.now is not None else time.time()
    if args.command == "verify":
        verifier = Verifier(
            scheme_by_name(args.scheme),
            secrets,
            tolerance=args.tolerance,
            nonce_store=None,
            on_event=lambda _event: None,
        )
        try:
            verified = verifier.verify(body, headers_in, url=args.url, method=args.method, now=now)
        except VerificationError as err:
            print(f"rejected: {err.reason}: {err}")
            return EXIT_REJECTED
        print(
            f"verified: scheme={verified.scheme} msg_id={verified.msg_id} "
            f"timestamp={verified.timestamp} key_index={verified.key_index}"
        )
        return EXIT_OK
    diagnosis = explain(
        args.scheme, secrets, body, headers_in, url=args.url, method=args.method, now=now
    )
    print(diagnosis.render())
    return EXIT_OK if diagnosis.verified else EXIT_REJECTED


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 rejected, 2 usage error)."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except (ConfigurationError, OSError) as err:
        print(f"hookseal: error: {err}", file=sys.stderr)
        return EXIT_USAGE
