"""Every ```python block of README.md and docs/**/*.md runs as a test, twice in a row.

One test per block, with the id ``file:line`` (the line of the opening fence). Each run gets
a fresh namespace: the names of :func:`base_namespace`, then those of the block's setup,
then the block itself. Between the two runs the harness does what hookseal's pytest plugin
does between two tests (``hookseal.testing.reset_replay_state()``), and nothing else: a file,
a database row or a Redis key the first run left behind is still there for the second, so a
snippet that only passes once fails here. A block that defines ``test_*`` functions has them
called after it runs, with their arguments taken from the namespace by name.

The base namespace (the names snippets conventionally assume) is small on purpose:

======================= ==================================================================
``secret``, ``secrets`` ``"my-webhook-secret"`` and ``[secret]``
``scheme``              ``GitHub()``
``body``/``raw_body``   a JSON body; both names are the same bytes
``headers``             GitHub headers signing ``body`` with ``secret``; also
                        ``request_headers``
``verifier``            ``Verifier(scheme, secrets)`` (the shared default replay store)
``handle``/``process``  your code: record what they are given
``log``, ``metrics``    stand-ins for a logger and a metrics client
======================= ==================================================================

A block that needs more says so on the line before its fence, in an HTML comment that
renders as nothing:

- ``<!-- snippet: setup=NAME -->`` runs it with the named setup of :data:`SETUPS` (signed
  deliveries for one provider, a framework, a database, a pytest session...).
- ``<!-- snippet: compile-only (REASON) -->`` only compiles it, for the rare block that cannot
  run here (it needs a public URL, a Redis Cluster...); the reason is required.

Top-level ``await`` is allowed (the block runs in an event loop).
"""

from __future__ import annotations

import ast
import asyncio
import gc
import importlib.util
import inspect
import json
import logging
import re
import sys
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hookseal import Signer, Verifier
from hookseal.schemes import GitHub, HMACScheme
from hookseal.testing import reset_replay_state, sign_delivery

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```python\s*$")
MARKER = re.compile(r"^<!--\s*snippet:\s*(?P<spec>.*?)\s*-->\s*$")
SETUP = re.compile(r"^setup=(?P<name>[\w-]+)$")
COMPILE_ONLY = re.compile(r"^compile-only\s*\((?P<reason>[^)]*)\)$")
#: Modules only an extra installs: a block importing one is marked ``extras``.
OPTIONAL = re.compile(
    r"^\s*(?:from|import)\s+(?:flask|django|starlette|fastapi|redis|psycopg|http_sf"
    r"|hookseal\.contrib|hookseal\.stores\.(?:redis|postgres))\b",
    re.MULTILINE,
)
BODY = b'{"action": "opened", "number": 1}'


@dataclass(frozen=True)
class Snippet:
    """One ```python block: where it is, its code, and the marker comment above it."""

    path: Path
    line: int
    code: str
    marker: str | None

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def collect() -> list[Snippet]:
    """Every ```python block of README.md and docs/**/*.md, in file order."""
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        lines = path.read_text(encoding="utf-8").splitlines()
        index = 0
        while index < len(lines):
            if FENCE.match(lines[index]):
                end = index + 1
                while not lines[end].startswith("```"):
                    end += 1
                marker = MARKER.match(lines[index - 1]) if index else None
                code = "\n".join(lines[index + 1 : end]) + "\n"
                spec = marker["spec"] if marker else None
                found.append(Snippet(path, index + 1, code, spec))
                index = end
            index += 1
    return found


# --- the namespaces ---------------------------------------------------------------------


class Recorder:
    """A stand-in for the user's code (``handle``, ``process``, ``metrics.increment``...)."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append((args, kwargs))

    def __getattr__(self, name: str) -> Recorder:
        if name.startswith("_"):
            raise AttributeError(name)
        return self


def signed(scheme: Any, secret: Any, body: bytes = BODY, **kwargs: Any) -> dict[str, Any]:
    """``body``/``raw_body`` and ``headers``/``request_headers`` signed for ``scheme``."""
    delivery = sign_delivery(scheme, secret, body, **kwargs)
    headers = delivery.all_headers()
    return {"body": body, "raw_body": body, "headers": headers, "request_headers": headers}


def base_namespace() -> dict[str, Any]:
    """The names every block may assume (see the module docstring)."""
    secret = "my-webhook-secret"
    scheme = GitHub()
    return {
        "__name__": "docs_snippet",
        "secret": secret,
        "secrets": [secret],
        "scheme": scheme,
        "verifier": Verifier(scheme, [secret]),
        "handle": Recorder(),
        "process": Recorder(),
        "log": logging.getLogger("docs_snippet"),
        "metrics": Recorder(),
        **signed(scheme, secret),
    }


@dataclass(frozen=True)
class Setup:
    """A named setup: what it adds to the namespace, what it checks after each run."""

    build: Callable[[pytest.FixtureRequest], dict[str, Any]]
    extras: bool = False
    check: Callable[[dict[str, Any]], None] | None = None


SETUPS: dict[str, Setup] = {}


def setup(
    name: str, *, extras: bool = False, check: Callable[[dict[str, Any]], None] | None = None
) -> Callable[[Callable[[pytest.FixtureRequest], dict[str, Any]]], Any]:
    def register(build: Callable[[pytest.FixtureRequest], dict[str, Any]]) -> Any:
        SETUPS[name] = Setup(build, extras, check)
        return build

    return register


# Provider pages: a delivery signed with the secret the page itself shows (for GitHub,
# Standard Webhooks and Slack, the provider's own published example secret).
PROVIDER_SECRETS = {
    "github": "It's a Secret to Everybody",
    "standard-webhooks": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "slack": "8f742231b10e8888abcd99yyyzzz85a5",
    "stripe": "whsec_...",
    "paddle": "pdl_ntfset_01h..._...",
    "workos": "<the endpoint's webhook secret>",
    "shopify": "shpss_client_secret",
    "gitlab": "the webhook's secret token",
}
for _provider, _secret in PROVIDER_SECRETS.items():
    SETUPS[_provider] = Setup(
        lambda request, p=_provider, s=_secret: {
            **signed(p, s),
            "secret": s,
            "client_secret": s,
            "token": "bearer-token",
            "old": "old-secret",
            "new": "new-secret",
        }
    )

#: RFC 8032's first test key (section 7.1): the seed and its public key.
ED25519_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
ED25519_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"


@setup("discord")
def _discord(request: pytest.FixtureRequest) -> dict[str, Any]:
    return signed("discord", ED25519_SEED, b'{"type":1}')


@setup("twilio")
def _twilio(request: pytest.FixtureRequest) -> dict[str, Any]:
    token = "twilio-auth-token"
    form = b"From=%2B14158675309&Body=hi"
    url = "https://example.com/sms?tenant=42"
    return {
        "auth_token": token,
        **signed("twilio", token, form, url=url, content_type="application/x-www-form-urlencoded"),
    }


def _check_rotated_headers(ns: dict[str, Any]) -> None:
    for secret in (ns["old"], ns["new"]):  # both receivers (old list, new list) accept it
        Verifier(ns["scheme"], [secret], nonce_store=None).verify(ns["body"], ns["headers"])


@setup("key-rotation")
def _key_rotation(request: pytest.FixtureRequest) -> dict[str, Any]:
    request.getfixturevalue("monkeypatch").setenv("WEBHOOK_SECRETS", "old-secret,new-secret")
    scheme = HMACScheme(
        "X-Signature",
        prefix="sha256=",
        timestamp_header="X-Timestamp",
        id_header="X-Id",
        template="{id}.{timestamp}.{body}",
    )
    return {
        "scheme": scheme,
        "old": "old-secret",
        "new": "new-secret",
        "ts": int(__import__("time").time()),
        "mid": "msg_1",
    }


SETUPS["key-rotation-signers"] = Setup(_key_rotation, check=_check_rotated_headers)


@setup("custom-scheme")
def _custom_scheme(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The complete scheme that docs/writing-a-scheme.md writes in its first block."""
    page = (ROOT / "docs" / "writing-a-scheme.md").read_text(encoding="utf-8")
    first = page.split("```python\n", 1)[1].split("\n```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(first, "docs/writing-a-scheme.md", "exec"), namespace)
    return {"Acme": namespace["Acme"]}


@setup("audit-alerts")
def _audit_alerts(request: pytest.FixtureRequest) -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location("audit_alerts", ROOT / "examples/audit_alerts.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {"RejectionMonitor": module.RejectionMonitor, "page_the_on_call": Recorder()}


@setup("allowlists")
def _allowlists(request: pytest.FixtureRequest) -> dict[str, Any]:
    from hookseal.network import IPAllowlist

    Path("github-meta.json").write_text(json.dumps({"hooks": ["192.30.252.0/22"]}))
    Path("stripe-ips.json").write_text(json.dumps({"WEBHOOKS": ["3.18.12.63"]}))
    return {
        "IPAllowlist": IPAllowlist,
        "peer": "192.30.252.10",  # inside GitHub's published hook ranges
        "document": json.dumps({"ranges": ["203.0.113.0/24"]}).encode(),
    }


@setup("rfc9421", extras=True)
def _rfc9421(request: pytest.FixtureRequest) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    from hookseal.schemes import HTTPMessageSignatures

    def pem(key: Any, private: bool = False) -> str:
        if private:
            return key.private_bytes(  # type: ignore[no-any-return]
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode()
        return key.public_bytes(  # type: ignore[no-any-return]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    sender = ed25519.Ed25519PrivateKey.generate()
    Path("sender.key.pem").write_text(pem(sender, private=True))
    Path("sender.pub.pem").write_text(pem(sender.public_key()))
    scheme = HTTPMessageSignatures(required_components=("@method", "@target-uri", "content-digest"))
    headers = Signer(scheme, secret=("sender-ed25519", pem(sender, private=True))).sign(
        BODY, url="https://hooks.example.com/in?x=1", method="POST"
    )
    return {
        "body": BODY,
        "headers": headers,
        "request": types.SimpleNamespace(headers=headers),
        "p256_public_key": pem(ec.generate_private_key(ec.SECP256R1()).public_key()),
        "rsa_public_pem": pem(rsa.generate_private_key(65537, 2048).public_key()),
    }


# Frameworks: the environment their pages read, and the objects a fragment continues from.
SVIX_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _svix_env(request: pytest.FixtureRequest) -> None:
    request.getfixturevalue("monkeypatch").setenv("SVIX_WEBHOOK_SECRET", SVIX_SECRET)


@setup("flask", extras=True)
def _flask(request: pytest.FixtureRequest) -> dict[str, Any]:
    from flask import Flask

    from hookseal.contrib.flask import verify_webhook
    from hookseal.schemes import Shopify

    _svix_env(request)
    return {
        "app": Flask("docs_snippet"),
        "verify_webhook": verify_webhook,
        "verifier": Verifier(Shopify(), ["shpss_client_secret"]),
    }


@setup("fastapi", extras=True)
def _fastapi(request: pytest.FixtureRequest) -> dict[str, Any]:
    from fastapi import FastAPI

    from hookseal.schemes import StandardWebhooks

    _svix_env(request)
    return {"app": FastAPI(), "verifier": Verifier(StandardWebhooks(), [SVIX_SECRET])}


@setup("starlette", extras=True)
def _starlette(request: pytest.FixtureRequest) -> dict[str, Any]:
    _svix_env(request)
    return {}


@setup("django", extras=True)
def _django(request: pytest.FixtureRequest) -> dict[str, Any]:
    from django.conf import settings
    from django.test import override_settings

    if not settings.configured:  # another test module may have configured Django already
        settings.configure(SECRET_KEY="hookseal-docs-snippets", ALLOWED_HOSTS=["*"])
    # The page's advice: a Redis cache (built, never reached: nothing is verified here).
    redis = "django.core.cache.backends.redis.RedisCache"
    caches = override_settings(
        CACHES={"default": {"BACKEND": redis, "LOCATION": "redis://127.0.0.1:1"}}
    )
    caches.enable()
    request.addfinalizer(caches.disable)
    _svix_env(request)
    return {}


@setup("sqlite")
def _sqlite(request: pytest.FixtureRequest) -> dict[str, Any]:
    state = Path("state")  # in the test's directory; the second run finds the first's file
    state.mkdir(mode=0o700, exist_ok=True)
    request.getfixturevalue("monkeypatch").setenv("STATE_DIRECTORY", str(state.resolve()))
    return {}


@setup("postgres", extras=True)
def _postgres(request: pytest.FixtureRequest) -> dict[str, Any]:
    # A new, empty database for each run: what a test suite gives each test (see testing.md).
    url = request.getfixturevalue("fresh_postgres_url")()
    request.getfixturevalue("monkeypatch").setenv("HOOKSEAL_DATABASE_URL", url)
    return {}


@setup("hookseal-sign")
def _hookseal_sign(request: pytest.FixtureRequest) -> dict[str, Any]:
    return {"hookseal_sign": sign_delivery, "AUTH_TOKEN": "twilio-auth-token"}


# --- running a block --------------------------------------------------------------------


def parse_marker(snippet: Snippet) -> tuple[Setup | None, str | None]:
    """The block's setup (None: the base namespace only) or its compile-only reason."""
    if snippet.marker is None:
        return None, None
    if match := SETUP.match(snippet.marker):
        assert match["name"] in SETUPS, (
            f"{snippet.name}: unknown setup {match['name']!r}; known: {sorted(SETUPS)}"
        )
        return SETUPS[match["name"]], None
    if match := COMPILE_ONLY.match(snippet.marker):
        reason = match["reason"].strip()
        assert reason, f"{snippet.name}: compile-only needs a reason: compile-only (why)"
        return None, reason
    raise AssertionError(
        f"{snippet.name}: unreadable marker {snippet.marker!r}; write "
        "<!-- snippet: setup=NAME --> or <!-- snippet: compile-only (reason) -->"
    )


def compile_snippet(snippet: Snippet) -> types.CodeType:
    # Pad with newlines so tracebacks point at the Markdown file's own line numbers.
    source = "\n" * snippet.line + snippet.code
    return compile(source, str(snippet.path), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def call_tests(namespace: dict[str, Any]) -> None:
    """Call each ``test_*`` function the block defined, arguments looked up by name."""
    for name, function in list(namespace.items()):
        if name.startswith("test_") and inspect.isfunction(function):
            arguments = {p: namespace[p] for p in inspect.signature(function).parameters}
            result = function(**arguments)
            if inspect.iscoroutine(result):
                asyncio.run(result)


def run_once(
    snippet: Snippet, code: types.CodeType, found: Setup | None, request: pytest.FixtureRequest
) -> None:
    # What existed before the run is not the run's garbage: frozen, the collection below
    # walks only the objects made since (a full collection over the whole test session's
    # heap took up to seconds per run, most of the suite's time on this module).
    gc.freeze()
    try:
        namespace = base_namespace()
        if found is not None:
            namespace.update(found.build(request))
        result = eval(code, namespace)  # the repository's own documentation
        if inspect.iscoroutine(result):
            asyncio.run(result)
        call_tests(namespace)
        if found is not None and found.check is not None:
            found.check(namespace)
        # A block may open a file for good (an audit log): the namespace dies with the run.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            namespace.clear()
            gc.collect()
    finally:
        gc.unfreeze()


SNIPPETS = collect()


def _params() -> list[Any]:
    params = []
    for snippet in SNIPPETS:
        needs_extras = bool(OPTIONAL.search(snippet.code))
        spec = SETUP.match(snippet.marker or "")
        if spec and spec["name"] in SETUPS and SETUPS[spec["name"]].extras:
            needs_extras = True
        # The pytest-<framework> setups (registered further down) run a framework's app.
        if spec and spec["name"].startswith("pytest-"):
            needs_extras = True
        marks = [pytest.mark.extras] if needs_extras else []
        params.append(pytest.param(snippet, id=snippet.name, marks=marks))
    return params


@pytest.mark.parametrize("snippet", _params())
def test_snippet_runs_twice(
    snippet: Snippet,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    found, compile_only = parse_marker(snippet)
    code = compile_snippet(snippet)
    if compile_only is not None:
        return  # compiled above; the marker states why it cannot run here
    monkeypatch.chdir(tmp_path)  # files a block writes land here, and stay for run two
    if snippet.marker and snippet.marker.removeprefix("setup=") in PYTEST_SETUPS:
        run_as_pytest_module(snippet, request)
        return
    run_once(snippet, code, found, request)
    reset_replay_state()  # what the pytest plugin does between two tests, and only that
    run_once(snippet, code, found, request)


# --- blocks that are pytest test modules (docs/testing.md) -------------------------------

#: The application each ``pytest-*`` setup writes as ``myapp.py``: a small receiver with a
#: factory taking the replay store, as docs/testing.md assumes; and its ``conftest.py``.
PYTEST_SETUPS: dict[str, tuple[str, str]] = {
    "pytest-flask": (
        """
from flask import Flask, g

from hookseal import Verifier
from hookseal.contrib.flask import verify_webhook
from hookseal.schemes import GitHub, StandardWebhooks, Twilio

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
AUTH_TOKEN = "twilio-auth-token"


def create_app(nonce_store):
    app = Flask(__name__)

    @app.post("/hooks/github")
    @verify_webhook(Verifier(GitHub(), "test-secret", nonce_store=nonce_store))
    def github_hook():
        return g.webhook.json()

    @app.post("/hooks")
    @verify_webhook(Verifier(StandardWebhooks(), SECRET, nonce_store=nonce_store))
    def svix_hook():
        return "", 204

    @app.post("/hooks/sms")
    @verify_webhook(Verifier(Twilio(), AUTH_TOKEN, nonce_store=nonce_store),
                    public_url="https://hooks.example.com")
    def sms_hook():
        return "", 204

    return app
""",
        # The first example's ``client`` fixture, for the blocks after it.
        """
import pytest
from myapp import create_app


@pytest.fixture
def client(hookseal_store):
    return create_app(nonce_store=hookseal_store).test_client()
""",
    ),
    "pytest-starlette": (
        """
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from hookseal import Verifier
from hookseal.contrib.starlette import WebhookMiddleware
from hookseal.schemes import Stripe


async def stripe_hook(request):
    return Response(status_code=200)


def create_app(nonce_store):
    app = Starlette(routes=[Route("/hooks/stripe", stripe_hook, methods=["POST"])])
    verifier = Verifier(Stripe(), "whsec_test", nonce_store=nonce_store)
    app.add_middleware(WebhookMiddleware, routes={"/hooks/stripe": verifier})
    return app
""",
        "",
    ),
}
for _name in PYTEST_SETUPS:
    SETUPS[_name] = Setup(lambda request: {}, extras=True)


def run_as_pytest_module(snippet: Snippet, request: pytest.FixtureRequest) -> None:
    """Run the block as a test module in a fresh in-process pytest session, twice."""
    pytester = request.getfixturevalue("pytester_for_snippets")
    pytester.makeini(
        "[pytest]\naddopts = --strict-markers -p no:cacheprovider\n"
        "filterwarnings = error\nasyncio_default_fixture_loop_scope = function\n"
    )
    myapp, conftest = PYTEST_SETUPS[str(snippet.marker).removeprefix("setup=")]
    pytester.makepyfile(myapp=myapp, conftest=conftest)
    pytester.makepyfile(test_snippet=snippet.code)
    for _ in range(2):
        result = pytester.runpytest_inprocess("-q")
        assert result.ret == 0, "\n".join(result.outlines)
        outcomes = result.parseoutcomes()
        assert outcomes.get("passed", 0) >= 1, outcomes
        assert set(outcomes) <= {"passed"}, outcomes  # nothing skipped, xfailed, warned


def test_every_page_is_collected() -> None:
    pages = {snippet.path.relative_to(ROOT).as_posix() for snippet in SNIPPETS}
    assert {"README.md", "docs/testing.md", "docs/replay.md", "docs/deployment.md"} <= pages
    assert len(SNIPPETS) >= 50


def test_compile_only_is_the_exception() -> None:
    compile_only = [s.name for s in SNIPPETS if (s.marker or "").startswith("compile-only")]
    assert len(compile_only) * 10 <= len(SNIPPETS), compile_only


def test_markers_are_well_formed() -> None:
    for snippet in SNIPPETS:
        parse_marker(snippet)


def test_a_marker_without_a_reason_is_refused() -> None:
    snippet = Snippet(ROOT / "README.md", 1, "x = 1\n", "compile-only ()")
    with pytest.raises(AssertionError, match="needs a reason"):
        parse_marker(snippet)


def test_a_snippet_that_only_passes_once_fails(request: pytest.FixtureRequest) -> None:
    # The harness's reason to be: state a first run leaves behind must break the second.
    code = (
        "from hookseal import Verifier\n"
        "from hookseal.schemes import GitHub\n"
        "from hookseal.stores.sqlite import SQLiteNonceStore\n"
        "store = SQLiteNonceStore('remembered.db')\n"
        "Verifier(GitHub(), secret, nonce_store=store).verify(body, headers)\n"
        "store.close()\n"
    )
    snippet = Snippet(ROOT / "README.md", 1, code, None)
    compiled = compile_snippet(snippet)
    request.getfixturevalue("monkeypatch").chdir(request.getfixturevalue("tmp_path"))
    run_once(snippet, compiled, None, request)
    reset_replay_state()
    from hookseal import ReplayedDelivery

    with pytest.raises(ReplayedDelivery):
        run_once(snippet, compiled, None, request)


if __name__ == "__main__":  # pragma: no cover - list the blocks and their markers
    for item in SNIPPETS:
        print(item.name, item.marker or "", file=sys.stdout)
