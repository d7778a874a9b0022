"""The ``hookseal`` command line: sign, verify and explain deliveries.

Secrets are read from an environment variable (``--secret-env NAME``) or a file
(``--secret-file PATH``), never from the command line, and are never printed, with one
explicit exception: a shared-token scheme (GitLab) sends the secret itself as its header, so
``sign`` prints it only when given ``--print-shared-token``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from ._errors import ConfigurationError, VerificationError
from ._explain import explain
from ._signer import Signer
from ._verifier import Verifier
from .schemes._registry import buildable_names, scheme_by_name
from .schemes.base import Scheme

__all__ = ["main"]

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2



def _secret_source(kind: str) -> Callable[[str], tuple[str, str]]:
    def tag(value: str) -> tuple[str, str]:
        return kind, value

    return tag


def _secrets(args: argparse.Namespace) -> list[str | bytes]:
    """The secrets in command-line order (oldest first; ``sign`` uses the last one)."""
    found: list[str | bytes] = []
    for kind, source in args.secret_sources or ():
        if kind == "env":
            value = os.environ.get(source)
            if value is None:
                raise ConfigurationError(f"The environment variable {source} is not set.")
            found.append(value)
            continue
        with open(source, "rb") as handle:
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
            # The argument is not echoed: it may hold a signature.
            raise ConfigurationError("--header must look like 'Name: value' (no ':' found).")
        headers.append((name.strip(), value.strip()))
    return headers


def _read_body(path: str | None) -> bytes:
    if path is not None:
        with open(path, "rb") as handle:
            return handle.read()
    return sys.stdin.buffer.read()


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scheme", required=True, choices=buildable_names(), help="the sender's scheme"
    )
    parser.add_argument(
        "--secret-env",
        action="append",
        dest="secret_sources",
        type=_secret_source("env"),
        metavar="NAME",
        help="read a secret from $NAME (repeat for rotation, oldest first)",
    )
    parser.add_argument(
        "--secret-file",
        action="append",
        dest="secret_sources",
        type=_secret_source("file"),
        metavar="PATH",
        help="read a secret from a file (one trailing newline is removed)",
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
    sign.add_argument(
        "--print-shared-token",
        action="store_true",
        help="for shared-token schemes (gitlab), whose header is the secret itself: print it",
    )

    verify = commands.add_parser("verify", help="verify the delivery whose body is on stdin")
    _checker(verify)

    diagnose = commands.add_parser("explain", help="say why a delivery fails to verify")
    _checker(diagnose)
    return parser


def _check_url(scheme: Scheme, url: str | None) -> None:
    if not scheme.signs_url:
        return
    if url is None:
        raise ConfigurationError(
            f"The {scheme.name} scheme signs the request URL: give --url with the full URL the "
            "sender requested (for sign, --curl URL also works)."
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError("--url must be an absolute http:// or https:// URL.")


def _run(args: argparse.Namespace) -> int:
    if args.command == "sign":
        scheme = scheme_by_name(args.scheme)
        if scheme.sends_secret and not args.print_shared_token:
            raise ConfigurationError(
                f"The {args.scheme} scheme signs nothing: its header carries the shared token "
                "itself, so 'sign' would print the secret. Pass --print-shared-token to print "
                "it anyway (keep the output out of shell history, logs and CI output)."
            )
        secrets = _secrets(args)
        url = args.url or args.curl
        _check_url(scheme, url)
        body = _read_body(args.body_file)
        signer = Signer(scheme, secrets[-1])
        headers = signer.sign(body, timestamp=args.timestamp, msg_id=args.msg_id, url=url)
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
    secrets = _secrets(args)
    _check_url(scheme_by_name(args.scheme), args.url)
    headers_in = _headers(args.header)
    body = _read_body(args.body_file)
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
        args.scheme,
        secrets,
        body,
        headers_in,
        url=args.url,
        method=args.method,
        now=now,
        tolerance=args.tolerance,
    )
    print(diagnosis.render())
    return EXIT_OK if diagnosis.verified else EXIT_REJECTED


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 rejected, 2 usage error)."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except (ValueError, OSError) as err:  # ConfigurationError is a ValueError
        print(f"hookseal: error: {err}", file=sys.stderr)
        return EXIT_USAGE
