"""A loopback HTTPS server with a test CA, serving published keys to the tests of this folder.

Everything here is generated per test session with ``cryptography``: a CA, a server
certificate for ``127.0.0.1``/``localhost`` signed by it, and the signing keys the fake
senders use. Nothing reaches the internet.
"""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from hookseal.published_keys import PublishedKeys


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificate(
    subject_key: rsa.RSAPrivateKey,
    common_name: str,
    issuer_key: rsa.RSAPrivateKey | None = None,
    issuer_name: str | None = None,
    *,
    ca: bool = False,
    sans: list[x509.GeneralName] | None = None,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(issuer_name or common_name))
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - datetime.timedelta(days=1))
        .not_valid_after(not_after or now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    # The extensions Python 3.13's strict verification (VERIFY_X509_STRICT) requires.
    builder = builder.add_extension(
        x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False
    )
    if issuer_key is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=not ca,
            content_commitment=False,
            key_encipherment=not ca,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=ca,
            crl_sign=ca,
            encipher_only=False,
            decipher_only=False,
        ),
        critical=True,
    )
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key or subject_key, hashes.SHA256())


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # before the status line
    drip: float = 0.0  # between body bytes
    chunked: bool = False


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        server = self.server
        with server.lock:
            server.hits[self.path] = server.hits.get(self.path, 0) + 1
        route = server.routes.get(self.path)
        if route is None:
            route = Route(b"not found", status=404)
        if route.delay:
            time.sleep(route.delay)
        try:
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            elif "Content-Length" not in route.headers:
                self.send_header("Content-Length", str(len(route.body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if route.chunked:
                for start in range(0, len(route.body), 4096):
                    part = route.body[start : start + 4096]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.write(b"0\r\n\r\n")
            elif route.drip:
                for index in range(len(route.body)):
                    self.wfile.write(route.body[index : index + 1])
                    self.wfile.flush()
                    time.sleep(route.drip)
            else:
                self.wfile.write(route.body)
        except OSError:
            pass  # the client gave up (the tests of slow responses do)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Route]
    hits: dict[str, int]
    lock: threading.Lock


@dataclass
class KeyServer:
    """The running loopback server: add routes, read hit counts, build PublishedKeys for it."""

    port: int
    ca_pem: bytes
    routes: dict[str, Route]
    hits: dict[str, int]

    @property
    def origin(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, body: bytes, **options: object) -> str:
        self.routes[path] = Route(body, **options)  # type: ignore[arg-type]
        return self.url(path)

    def published_keys(self, **options: object) -> PublishedKeys:
        return PublishedKeys(
            allow_hosts=[self.origin],
            trust_ca=self.ca_pem,
            **options,  # type: ignore[arg-type]
        )


@pytest.fixture(scope="session")
def test_ca() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, make_certificate(key, "hookseal test CA", ca=True)


@pytest.fixture(scope="session")
def _server_tls(
    test_ca: tuple[rsa.RSAPrivateKey, x509.Certificate], tmp_path_factory: pytest.TempPathFactory
) -> ssl.SSLContext:
    ca_key, _ca_cert = test_ca
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = make_certificate(
        key,
        "127.0.0.1",
        ca_key,
        "hookseal test CA",
        sans=[x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")],
    )
    folder: Path = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


@pytest.fixture
def key_server(
    _server_tls: ssl.SSLContext, test_ca: tuple[rsa.RSAPrivateKey, x509.Certificate]
) -> Iterator[KeyServer]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.routes = {}
    server.hits = {}
    server.lock = threading.Lock()
    server.socket = _server_tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield KeyServer(
            port=server.server_address[1],
            ca_pem=test_ca[1].public_bytes(serialization.Encoding.PEM),
            routes=server.routes,
            hits=server.hits,
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class ManualClock:
    """A monotonic clock the tests move by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def manual_clock() -> ManualClock:
    return ManualClock()


Parse = Callable[[bytes], bytes]
