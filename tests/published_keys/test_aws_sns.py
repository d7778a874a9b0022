"""AmazonSNS: signed JSON messages checked against a certificate served by the loopback HTTPS
test server. Messages are signed with test keys; the AWS documentation's example messages are
reused for their structure only (re-signed with a test key, labelled as such)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from hookseal import (
    ConfigurationError,
    MalformedHeader,
    MissingHeader,
    ReplayedDelivery,
    SignatureMismatch,
    Signer,
    TimestampOutOfTolerance,
    Verified,
    Verifier,
)
from hookseal.published_keys import KeyUnavailable, PublishedKeys
from hookseal.schemes.aws_sns import (
    CERTIFICATE_RULE,
    SUBSCRIBE_RULE,
    AmazonSNS,
    SNSSigningKey,
    sign_message,
    string_to_sign,
)
from hookseal.stores.memory import MemoryNonceStore

from .conftest import make_certificate

pytestmark = pytest.mark.server

TOPIC = "arn:aws:sns:us-west-2:123456789012:MyTopic"
NOW = 1_767_000_000
CERT_PATH = "/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem"
OLD = datetime.datetime(2010, 1, 1, tzinfo=datetime.timezone.utc)
FAR = datetime.datetime(2040, 1, 1, tzinfo=datetime.timezone.utc)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def cert_pem(rsa_key) -> bytes:
    cert = make_certificate(rsa_key, "sns.amazonaws.com", not_before=OLD, not_after=FAR)
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def signing_key(key_server, rsa_key, cert_pem) -> SNSSigningKey:
    return SNSSigningKey(rsa_key, key_server.serve(CERT_PATH, cert_pem))


@pytest.fixture
def scheme(key_server) -> AmazonSNS:
    return AmazonSNS(published_keys=key_server.published_keys())


def make_verifier(scheme: AmazonSNS, topics=(TOPIC,), **options) -> Verifier:
    options.setdefault("nonce_store", MemoryNonceStore())
    return Verifier(scheme, list(topics), **options)


def message(key: SNSSigningKey, **fields) -> bytes:
    fields.setdefault("topic_arn", TOPIC)
    fields.setdefault("message", '{"order": 42}')
    fields.setdefault("timestamp", NOW)
    fields.setdefault("msg_id", "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324")
    return sign_message(key, **fields)


def edit(body: bytes, **changes) -> bytes:
    fields = json.loads(body)
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return json.dumps(fields).encode()


# -- accepted deliveries ----------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_signed_notification_is_accepted_once(scheme, signing_key, key_server, version) -> None:
    verifier = make_verifier(scheme)
    body = message(signing_key, signature_version=version, subject="Hello")
    verified = verifier.verify(body, {}, now=NOW)
    assert verified.msg_id == "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324"
    assert verified.timestamp == NOW
    assert verified.scheme == "aws-sns"
    assert verified.body == body
    assert verified.json()["Message"] == '{"order": 42}'
    with pytest.raises(ReplayedDelivery):
        verifier.verify(body, {}, now=NOW + 1)
    assert key_server.hits == {CERT_PATH: 1}


def test_the_key_index_names_the_matching_topic(scheme, signing_key) -> None:
    other = "arn:aws:sns:us-west-2:123456789012:Other"
    verifier = make_verifier(scheme, topics=(other, TOPIC))
    assert verifier.verify(message(signing_key), {}, now=NOW).key_index == 1


def test_aws_documentation_notification_example_resigned(scheme, signing_key) -> None:
    """The example Notification of AWS's "HTTP/HTTPS notification JSON format" page, its
    fields reused and RE-SIGNED WITH A TEST KEY (AWS's own signature needs AWS's key)."""
    body = sign_message(
        signing_key,
        message_type="Notification",
        msg_id="22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        topic_arn="arn:aws:sns:us-west-2:123456789012:MyTopic",
        subject="My First Message",
        message="Hello world!",
        timestamp=int(
            datetime.datetime(2012, 5, 2, 0, 54, 6, tzinfo=datetime.timezone.utc).timestamp()
        ),
        signature_version="1",
        extra={
            "UnsubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&"
            "SubscriptionArn=arn:aws:sns:us-west-2:123456789012:MyTopic:"
            "c9135db0-26c4-47ec-8998-413945fb5a96"
        },
    )
    assert b"2012-05-02T00:54:06.000Z" in body
    verified = make_verifier(scheme).verify(body, {}, now=1335920046 + 10)
    assert verified.json()["Subject"] == "My First Message"


def test_aws_documentation_subscription_confirmation_example_resigned(scheme, signing_key) -> None:
    """AWS's example SubscriptionConfirmation (structure reused, RE-SIGNED WITH A TEST KEY)."""
    token = "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3"
    body = sign_message(
        signing_key,
        message_type="SubscriptionConfirmation",
        msg_id="165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        token=token,
        topic_arn=TOPIC,
        message="You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:"
        "MyTopic.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
        subscribe_url="https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&"
        f"TopicArn={TOPIC}&Token={token}",
        timestamp=NOW,
    )
    verified = make_verifier(scheme).verify(body, {}, now=NOW)
    assert verified.json()["Type"] == "SubscriptionConfirmation"


def test_unsubscribe_confirmation_is_accepted(scheme, signing_key) -> None:
    body = message(signing_key, message_type="UnsubscribeConfirmation", token="t" * 40)
    make_verifier(scheme).verify(body, {}, now=NOW)


def test_string_to_sign_follows_the_aws_rules() -> None:
    base = {
        "Type": "Notification",
        "MessageId": "m",
        "TopicArn": "t",
        "Message": "x\ny",
        "Timestamp": "2012-05-02T00:54:06.655Z",
    }
    assert string_to_sign(base) == (
        b"Message\nx\ny\nMessageId\nm\nTimestamp\n2012-05-02T00:54:06.655Z\n"
        b"TopicArn\nt\nType\nNotification\n"
    )
    assert b"Subject\ns\nTimestamp" in string_to_sign({**base, "Subject": "s"})
    assert string_to_sign({**base, "Subject": None}) == string_to_sign(base)
    confirmation = {
        **base,
        "Type": "SubscriptionConfirmation",
        "SubscribeURL": "u",
        "Token": "k",
        "Subject": "ignored",
    }
    assert string_to_sign(confirmation) == (
        b"Message\nx\ny\nMessageId\nm\nSubscribeURL\nu\nTimestamp\n2012-05-02T00:54:06.655Z\n"
        b"Token\nk\nTopicArn\nt\nType\nSubscriptionConfirmation\n"
    )


def test_a_null_subject_is_an_absent_subject(scheme, signing_key) -> None:
    body = edit(message(signing_key), Subject=None)
    fields = json.loads(body)
    fields["Subject"] = None
    make_verifier(scheme).verify(json.dumps(fields).encode(), {}, now=NOW)


def test_unsigned_fields_may_differ(scheme, signing_key) -> None:
    body = edit(message(signing_key), UnsubscribeURL="https://example.com/anything")
    make_verifier(scheme).verify(body, {}, now=NOW)


# -- forged or altered messages ----------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"Message": '{"order": 43}'},
        {"Message": '{"order": 42} '},
        {"MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf325"},
        {"Subject": "Injected"},
        {"Timestamp": "2025-12-29T09:20:01.000Z"},
        {"Type": "UnsubscribeConfirmation", "Token": "x", "SubscribeURL": "y"},
    ],
)
def test_any_signed_field_changed_is_refused(scheme, signing_key, changes) -> None:
    body = edit(message(signing_key), **changes)
    with pytest.raises(SignatureMismatch) as caught:
        make_verifier(scheme).verify(body, {}, now=NOW)
    assert caught.value.reason == "signature_mismatch"


def test_a_signature_by_another_key_is_refused(scheme, key_server, cert_pem) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = message(SNSSigningKey(other, key_server.serve(CERT_PATH, cert_pem)))
    with pytest.raises(SignatureMismatch):
        make_verifier(scheme).verify(forged, {}, now=NOW)


def test_a_version_1_signature_relabelled_version_2_is_refused(scheme, signing_key) -> None:
    body = edit(message(signing_key, signature_version="1"), SignatureVersion="2")
    with pytest.raises(SignatureMismatch):
        make_verifier(scheme).verify(body, {}, now=NOW)


@pytest.mark.parametrize("cut", [1, 2, 128, 255])
def test_a_truncated_or_extended_signature_is_refused(scheme, signing_key, cut) -> None:
    import base64

    fields = json.loads(message(signing_key))
    raw = base64.b64decode(fields["Signature"])
    for variant in (raw[:-cut], raw + b"\0" * cut):
        body = edit(message(signing_key), Signature=base64.b64encode(variant).decode())
        with pytest.raises(SignatureMismatch):
            make_verifier(scheme).verify(body, {}, now=NOW)


@pytest.mark.parametrize("suffix", ["!!!", "==", " ", "\n"])
def test_a_non_canonical_signature_is_malformed(scheme, signing_key, suffix) -> None:
    fields = json.loads(message(signing_key))
    body = edit(message(signing_key), Signature=fields["Signature"] + suffix)
    with pytest.raises(MalformedHeader):
        make_verifier(scheme).verify(body, {}, now=NOW)


@pytest.mark.parametrize("name", ["Signature", "SignatureVersion", "SigningCertURL"])
@pytest.mark.parametrize("value", [None, "", 5])
def test_a_missing_signature_field_is_missing_header(scheme, signing_key, name, value) -> None:
    body = message(signing_key)
    fields = json.loads(body)
    if value is None:
        del fields[name]
    else:
        fields[name] = value
    with pytest.raises(MissingHeader) as caught:
        make_verifier(scheme).verify(json.dumps(fields).encode(), {}, now=NOW)
    assert caught.value.header == name


@pytest.mark.parametrize(
    ("versions", "sent"), [(("2",), "1"), (("1", "2"), "3"), (("1", "2"), "2 ")]
)
def test_signature_versions_not_accepted(key_server, signing_key, versions, sent) -> None:
    keys = key_server.published_keys()
    scheme = AmazonSNS(published_keys=keys, signature_versions=versions)
    body = edit(message(signing_key, signature_version="1"), SignatureVersion=sent)
    with pytest.raises(SignatureMismatch) as caught:
        make_verifier(scheme).verify(body, {}, now=NOW)
    assert caught.value.reason == "no_supported_signature"
    assert keys.fetch_count == 0


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'"text"',
        b'{"Type": "Notification", "Type": "Notification"}',
        b'{"Type": NaN}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b"\xff\xfe{}",
        b'{"Type": "Notification", "Message": "' + b"9" * 10 + b'"}' + b" x",
    ],
)
def test_bodies_that_are_not_sns_messages_are_malformed(scheme, body) -> None:
    with pytest.raises(MalformedHeader) as caught:
        make_verifier(scheme).verify(body, {}, now=NOW)
    assert caught.value.reason == "malformed_body"


def test_duplicate_members_cannot_smuggle_a_second_message(scheme, signing_key) -> None:
    body = message(signing_key)
    smuggled = body[:-1] + b', "Message": "{\\"order\\": 1000}"}'
    with pytest.raises(MalformedHeader):
        make_verifier(scheme).verify(smuggled, {}, now=NOW)


@pytest.mark.parametrize("message_type", ["Notification ", "notification", "Other", 1, None])
def test_an_unknown_type_is_malformed(scheme, signing_key, message_type) -> None:
    fields = json.loads(message(signing_key))
    fields["Type"] = message_type
    with pytest.raises(MalformedHeader):
        make_verifier(scheme).verify(json.dumps(fields).encode(), {}, now=NOW)


@pytest.mark.parametrize("name", ["Message", "MessageId", "Timestamp", "TopicArn"])
def test_a_signed_field_that_is_not_text_is_malformed(scheme, signing_key, name) -> None:
    fields = json.loads(message(signing_key))
    fields[name] = {"nested": True}
    with pytest.raises(MalformedHeader):
        make_verifier(scheme).verify(json.dumps(fields).encode(), {}, now=NOW)


# -- cheap checks refuse before any download ------------------------------------------------------


def test_a_topic_not_configured_is_refused_without_a_download(key_server, signing_key) -> None:
    keys = key_server.published_keys()
    body = message(signing_key, topic_arn="arn:aws:sns:us-west-2:999999999999:Attacker")
    with pytest.raises(SignatureMismatch) as caught:
        make_verifier(AmazonSNS(published_keys=keys)).verify(body, {}, now=NOW)
    assert caught.value.reason == "topic_not_allowed"
    assert keys.fetch_count == 0


@pytest.mark.parametrize(
    ("offset", "reason"),
    [
        (-301, "timestamp_too_old"),
        (301, "timestamp_in_future"),
        (86400 * 365 * 100, "timestamp_in_future"),
    ],
)
def test_the_window_is_checked_before_a_download(key_server, signing_key, offset, reason) -> None:
    keys = key_server.published_keys()
    body = message(signing_key, timestamp=NOW + offset)
    with pytest.raises(TimestampOutOfTolerance) as caught:
        make_verifier(AmazonSNS(published_keys=keys)).verify(body, {}, now=NOW)
    assert caught.value.reason == reason
    assert keys.fetch_count == 0


@pytest.mark.parametrize(
    "value",
    [
        "",
        "2012-05-02 00:54:06Z",
        "2012-05-02T00:54:06.655",
        "2012-05-02T00:54:06+00:00",
        "2012-13-02T00:54:06.655Z",
        "\uff12012-05-02T00:54:06.655Z",
        "1335920046",
        "2012-05-02T00:54:06.6555555555Z",
    ],
)
def test_malformed_timestamps(scheme, signing_key, value) -> None:
    body = edit(message(signing_key), Timestamp=value)
    with pytest.raises(MalformedHeader) as caught:
        make_verifier(scheme).verify(body, {}, now=NOW)
    assert caught.value.reason == "malformed_timestamp"


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.us-east-1.amazonaws.com.evil.com/SimpleNotificationService-abc.pem",
        "https://evil.com/SimpleNotificationService-abc.pem",
        "https://sns.us-east-1.amazonaws.com@evil.com/SimpleNotificationService-abc.pem",
        "https://evil.com@sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-abc.pem",
        "https://sns.us-east-1.amazonaws.com:443/SimpleNotificationService-abc.pem",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem?x=1",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem#x",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.txt",
        "https://sns.us-east-1.amazonaws.com/x/SimpleNotificationService-abc.pem",
        "https://sns.us-east-1.amazonaws.com/../SimpleNotificationService-abc.pem",
        "https://s3.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.us-east-1.evil.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://attacker-bucket.s3.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://SNS.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.us-east-1.amazonaws.com./SimpleNotificationService-abc.pem",
        "https://127.0.0.1/SimpleNotificationService-abc.pem",
        "https://sns.us-east-1.amazonaws.com\\@evil.com/SimpleNotificationService-abc.pem",
    ],
)
def test_certificate_urls_outside_sns_hosts_are_refused_without_a_download(
    rsa_key, signing_key, url
) -> None:
    keys = PublishedKeys()  # production rules: no test origin
    body = message(SNSSigningKey(rsa_key, "https://x.invalid/"), msg_id="m1")
    body = edit(body, SigningCertURL=url)
    with pytest.raises(SignatureMismatch) as caught:
        make_verifier(AmazonSNS(published_keys=keys)).verify(body, {}, now=NOW)
    assert caught.value.reason == "untrusted_certificate_url"
    assert keys.fetch_count == 0


@pytest.mark.parametrize(
    "host",
    [
        "sns.us-east-1.amazonaws.com",
        "sns.eu-central-2.amazonaws.com",
        "sns.us-gov-west-1.amazonaws.com",
        "sns.cn-north-1.amazonaws.com.cn",
        "sns.cn-northwest-1.amazonaws.com.cn",
        "sns.us-iso-east-1.c2s.ic.gov",
        "sns.us-isob-east-1.sc2s.sgov.gov",
        "sns.eu-isoe-west-1.cloud.adc-e.uk",
        "sns.us-isof-south-1.csp.hci.ic.gov",
        "sns.eusc-de-east-1.amazonaws.eu",
        "sns.ap-southeast-5.amazonaws.com",
    ],
)
def test_sns_hosts_of_every_partition_are_allowed(host) -> None:
    url = f"https://{host}/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem"
    assert CERTIFICATE_RULE.problem(url) is None


def test_the_certificate_rule_is_linear_on_hostile_input() -> None:
    benign = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-" + "a" * 60 + ".pem"
    hostile = "https://sns." + "a-" * 1000 + "1.amazonaws.com/" + "S" * 1000
    started = time.perf_counter()
    for _ in range(200):
        CERTIFICATE_RULE.problem(benign)
    base = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(200):
        CERTIFICATE_RULE.problem(hostile)
    assert time.perf_counter() - started < base * 20 + 0.05


# -- the certificate ------------------------------------------------------------------------------


def test_an_expired_certificate_is_refused(key_server, rsa_key) -> None:
    expired = make_certificate(
        rsa_key,
        "sns",
        not_before=OLD,
        not_after=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc),
    ).public_bytes(serialization.Encoding.PEM)
    key = SNSSigningKey(rsa_key, key_server.serve(CERT_PATH, expired))
    scheme = AmazonSNS(published_keys=key_server.published_keys())
    with pytest.raises(SignatureMismatch) as caught:
        make_verifier(scheme).verify(message(key), {}, now=NOW)
    assert caught.value.reason == "certificate_expired"


def test_a_non_rsa_certificate_is_unusable(key_server, rsa_key) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ec_key.public_key())
        .serial_number(1)
        .not_valid_before(OLD)
        .not_valid_after(FAR)
        .sign(ec_key, hashes.SHA256())
    )
    key = SNSSigningKey(
        rsa_key, key_server.serve(CERT_PATH, cert.public_bytes(serialization.Encoding.PEM))
    )
    with pytest.raises(KeyUnavailable):
        make_verifier(AmazonSNS(published_keys=key_server.published_keys())).verify(
            message(key), {}, now=NOW
        )


def test_a_certificate_server_failure_is_a_503_and_is_not_retried_per_request(
    key_server, rsa_key
) -> None:
    key = SNSSigningKey(rsa_key, key_server.serve(CERT_PATH, b"", status=500))
    keys = key_server.published_keys()
    verifier = make_verifier(AmazonSNS(published_keys=keys))
    for index in range(20):
        with pytest.raises(KeyUnavailable) as caught:
            verifier.verify(message(key, msg_id=f"m{index}"), {}, now=NOW)
        assert caught.value.status_code == 503
    assert key_server.hits == {CERT_PATH: 1}


def test_forged_messages_naming_new_certificate_urls_are_bounded(key_server, rsa_key) -> None:
    keys = key_server.published_keys(max_fetches_per_minute=3)
    verifier = make_verifier(AmazonSNS(published_keys=keys))
    for index in range(30):
        key = SNSSigningKey(rsa_key, key_server.url(f"/SimpleNotificationService-{index}.pem"))
        with pytest.raises(KeyUnavailable):
            verifier.verify(message(key, msg_id=f"m{index}"), {}, now=NOW)
    assert keys.fetch_count == 3


def test_forged_deliveries_never_write_the_nonce_store(scheme, signing_key) -> None:
    store = MemoryNonceStore()
    verifier = make_verifier(scheme, nonce_store=store)
    for index in range(50):
        body = edit(message(signing_key, msg_id=f"m{index}"), Message="forged")
        with pytest.raises(SignatureMismatch):
            verifier.verify(body, {}, now=NOW)
    assert len(store) == 0


def test_replay_identity_is_scoped(key_server, signing_key) -> None:
    store = MemoryNonceStore()
    keys = key_server.published_keys()
    body = message(signing_key)
    make_verifier(AmazonSNS(published_keys=keys, replay_scope="a"), nonce_store=store).verify(
        body, {}, now=NOW
    )
    # Another endpoint subscribed to the same topic, sharing the store: not a replay.
    make_verifier(AmazonSNS(published_keys=keys, replay_scope="b"), nonce_store=store).verify(
        body, {}, now=NOW
    )
    with pytest.raises(ReplayedDelivery):
        make_verifier(AmazonSNS(published_keys=keys, replay_scope="a"), nonce_store=store).verify(
            body, {}, now=NOW
        )


def test_no_rejection_leaks_the_message(scheme, signing_key) -> None:
    body = edit(message(signing_key, message="secret-payload-123"), Subject="x")
    with pytest.raises(SignatureMismatch) as caught:
        make_verifier(scheme).verify(body, {}, now=NOW)
    assert "secret-payload-123" not in str(caught.value) + repr(caught.value)


# -- configuration and signing -----------------------------------------------------------------


@pytest.mark.parametrize(
    "secrets",
    [
        [],
        ["arn:aws:sns:us-east-1:123456789012:*"],
        ["arn:aws:sqs:us-east-1:123456789012:q"],
        ["arn:aws:sns:us-east-1:12345:topic"],
        [" arn:aws:sns:us-east-1:123456789012:t"],
        [b"arn:aws:sns:us-east-1:123456789012:t"],
        42,
    ],
)
def test_bad_topic_arns_raise_configuration_error(scheme, secrets) -> None:
    with pytest.raises(ConfigurationError):
        Verifier(scheme, secrets)


@pytest.mark.parametrize(
    "options",
    [
        {"signature_versions": ()},
        {"signature_versions": "2"},
        {"signature_versions": ("3",)},
        {"published_keys": "x"},
        {"confirm_subscriptions": 1},
        {"replay_scope": "a\nb"},
    ],
)
def test_bad_options_raise_configuration_error(options) -> None:
    with pytest.raises(ConfigurationError):
        AmazonSNS(**options)


def test_govcloud_and_china_topic_arns_are_accepted(scheme) -> None:
    Verifier(
        scheme,
        [
            "arn:aws-us-gov:sns:us-gov-west-1:123456789012:t",
            "arn:aws-cn:sns:cn-north-1:123456789012:t.fifo",
        ],
    )


def test_signer_returns_the_sns_headers(scheme, signing_key) -> None:
    body = message(signing_key)
    headers = Signer(scheme, signing_key).sign(body)
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-topic-arn"] == TOPIC
    make_verifier(scheme).verify(body, headers, now=NOW)


def test_signer_refuses_a_body_it_did_not_sign(scheme, signing_key, rsa_key) -> None:
    other = SNSSigningKey(
        rsa.generate_private_key(public_exponent=65537, key_size=2048), signing_key.certificate_url
    )
    with pytest.raises(ConfigurationError):
        Signer(scheme, other).sign(message(signing_key))
    with pytest.raises(ConfigurationError):
        Signer(scheme, signing_key).sign(b'{"not": "sns"}')
    assert "*****" in repr(signing_key)


# -- subscription confirmation ----------------------------------------------------------------


def confirmation(key: SNSSigningKey, subscribe_url: str, topic: str = TOPIC) -> bytes:
    return message(
        key,
        message_type="SubscriptionConfirmation",
        token="tok",
        subscribe_url=subscribe_url,
        topic_arn=topic,
    )


def test_confirming_needs_the_opt_in(scheme, signing_key, key_server) -> None:
    url = key_server.serve("/", b"<ConfirmSubscriptionResponse/>")
    body = confirmation(signing_key, f"{url}?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=t")
    verified = make_verifier(scheme).verify(body, {}, now=NOW)
    with pytest.raises(ConfigurationError):
        scheme.confirm_subscription(verified)
    assert "/" not in key_server.hits


def test_confirming_visits_the_verified_subscribe_url_once(key_server, signing_key) -> None:
    scheme = AmazonSNS(published_keys=key_server.published_keys(), confirm_subscriptions=True)
    key_server.serve("/?Action=ConfirmSubscription&TopicArn=" + TOPIC + "&Token=t", b"<ok/>")
    url = key_server.url("/?Action=ConfirmSubscription&TopicArn=" + TOPIC + "&Token=t")
    verified = make_verifier(scheme).verify(confirmation(signing_key, url), {}, now=NOW)
    scheme.confirm_subscription(verified)
    assert key_server.hits[f"/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=t"] == 1


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.com/?Action=ConfirmSubscription&TopicArn=" + TOPIC,
        "http://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + TOPIC,
        "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&TopicArn=" + TOPIC,
        "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:"
        "us-west-2:123456789012:Other",
        "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Action=Unsubscribe&"
        "TopicArn=" + TOPIC,
        "https://sns.us-west-2.amazonaws.com/redirect?Action=ConfirmSubscription&TopicArn=" + TOPIC,
    ],
)
def test_subscribe_urls_outside_the_rules_are_never_visited(signing_key, key_server, url) -> None:
    keys = key_server.published_keys()
    scheme = AmazonSNS(published_keys=keys, confirm_subscriptions=True)
    verified = make_verifier(scheme).verify(confirmation(signing_key, url), {}, now=NOW)
    before = keys.fetch_count
    with pytest.raises(ValueError, match="SubscribeURL"):
        scheme.confirm_subscription(verified)
    assert keys.fetch_count == before


def test_confirming_refuses_a_notification(scheme, signing_key) -> None:
    verified = make_verifier(scheme).verify(message(signing_key), {}, now=NOW)
    with pytest.raises(ValueError, match="not a SubscriptionConfirmation"):
        scheme.subscribe_url(verified)
    with pytest.raises(ValueError):
        scheme.subscribe_url(
            Verified(b"{}", timestamp=None, msg_id=None, key_index=0, scheme="github")
        )


def test_subscribe_rule_allows_sns_confirmation_links() -> None:
    assert (
        SUBSCRIBE_RULE.problem(
            "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + TOPIC
        )
        is None
    )


# -- async ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_averify_downloads_the_certificate_off_the_loop_and_accepts(
    key_server, signing_key
) -> None:
    """averify awaits the scheme's aprepare: the first delivery on a cold cache is accepted."""
    keys = key_server.published_keys()
    verifier = make_verifier(AmazonSNS(published_keys=keys))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    running = asyncio.create_task(ticker())
    verified = await verifier.averify(message(signing_key), {}, now=NOW)
    running.cancel()
    assert verified.msg_id is not None
    assert keys.fetch_count == 1
    assert ticks > 1  # the loop kept running while the certificate downloaded


def test_verify_on_a_running_loop_starts_a_background_download(scheme, signing_key) -> None:
    """The synchronous check never downloads on an event loop: 503 now, accepted once cached."""

    async def scenario() -> None:
        verifier = make_verifier(scheme)
        body = message(signing_key)
        with pytest.raises(KeyUnavailable, match="background"):
            verifier.verify(body, {}, now=NOW)
        for _ in range(200):
            if scheme.published_keys.cached(signing_key.certificate_url, _loader()) is not None:
                break
            await asyncio.sleep(0.01)
        assert verifier.verify(body, {}, now=NOW).msg_id is not None

    asyncio.run(scenario())


@pytest.mark.asyncio
async def test_aprepare_downloads_nothing_for_a_refused_delivery(key_server, signing_key) -> None:
    keys = key_server.published_keys()
    scheme = AmazonSNS(published_keys=keys)
    verifier = make_verifier(scheme)
    body = message(signing_key, topic_arn="arn:aws:sns:us-west-2:999999999999:Attacker")
    await scheme.aprepare(body, {}, scheme.load_keys([TOPIC]), verifier.limits, NOW)
    assert keys.fetch_count == 0


def _loader():
    from hookseal.schemes.aws_sns import load_certificate

    return load_certificate


def test_a_lone_surrogate_in_a_signed_field_is_a_mismatch_not_a_crash(scheme, signing_key) -> None:
    body = message(signing_key).replace(b'"Message": "', b'"Message": "\\ud800', 1)
    with pytest.raises(SignatureMismatch):
        make_verifier(scheme).verify(body, {}, now=NOW)


def test_mutated_messages_raise_only_verification_errors(scheme, signing_key) -> None:
    import random

    from hookseal import VerificationError

    rng = random.Random(20)
    verifier = make_verifier(scheme, nonce_store=None)
    original = message(signing_key, subject="s")
    for _ in range(400):
        body = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            body[rng.randrange(len(body))] = rng.randrange(256)
        with contextlib.suppress(VerificationError):
            verifier.verify(bytes(body), {}, now=NOW)


# -- subscription confirmation as a handshake (issue 20) --------------------------------------

CONFIRM_PATH = f"/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=t"


def test_an_opted_in_confirmation_is_confirmed_and_answered_200(key_server, signing_key) -> None:
    scheme = AmazonSNS(published_keys=key_server.published_keys(), confirm_subscriptions=True)
    key_server.serve(CONFIRM_PATH, b"<ConfirmSubscriptionResponse/>")
    verifier = make_verifier(scheme)
    verified = verifier.verify(confirmation(signing_key, key_server.url(CONFIRM_PATH)), {}, now=NOW)
    reply = verifier.handshake_reply(verified)
    assert reply is not None
    assert (reply.status, reply.body) == (200, b"")
    assert key_server.hits[CONFIRM_PATH] == 1


def test_without_the_opt_in_the_handler_gets_the_confirmation(scheme, signing_key, key_server):
    key_server.serve(CONFIRM_PATH, b"<ok/>")
    verifier = make_verifier(scheme)
    verified = verifier.verify(confirmation(signing_key, key_server.url(CONFIRM_PATH)), {}, now=NOW)
    assert verifier.handshake_reply(verified) is None
    assert CONFIRM_PATH not in key_server.hits


@pytest.mark.parametrize("message_type", ["Notification", "UnsubscribeConfirmation"])
def test_other_messages_are_not_handshakes(key_server, signing_key, message_type) -> None:
    keys = key_server.published_keys()
    scheme = AmazonSNS(published_keys=keys, confirm_subscriptions=True)
    verifier = make_verifier(scheme)
    url = key_server.url(CONFIRM_PATH)
    extra = {} if message_type == "Notification" else {"token": "t", "subscribe_url": url}
    body = message(signing_key, message_type=message_type, **extra)
    assert verifier.handshake_reply(verifier.verify(body, {}, now=NOW)) is None
    notification = message(signing_key, message="SubscriptionConfirmation", msg_id="other-id")
    assert verifier.handshake_reply(verifier.verify(notification, {}, now=NOW)) is None
    assert keys.fetch_count == 1  # the certificate only


def test_a_subscribe_url_outside_the_rules_is_answered_400_never_visited(
    key_server, signing_key
) -> None:
    keys = key_server.published_keys()
    scheme = AmazonSNS(published_keys=keys, confirm_subscriptions=True)
    verifier = make_verifier(scheme)
    url = "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&TopicArn=" + TOPIC
    verified = verifier.verify(confirmation(signing_key, url), {}, now=NOW)
    before = keys.fetch_count
    reply = verifier.handshake_reply(verified)
    assert reply is not None
    assert reply.status == 400
    assert keys.fetch_count == before


def test_a_failed_confirmation_is_answered_503(key_server, signing_key) -> None:
    scheme = AmazonSNS(published_keys=key_server.published_keys(), confirm_subscriptions=True)
    key_server.serve(CONFIRM_PATH, b"busy", status=500)
    verifier = make_verifier(scheme)
    verified = verifier.verify(confirmation(signing_key, key_server.url(CONFIRM_PATH)), {}, now=NOW)
    reply = verifier.handshake_reply(verified)
    assert reply is not None
    assert reply.status == 503
    assert b"busy" not in reply.body


@pytest.mark.asyncio
async def test_ahandshake_reply_confirms_off_the_event_loop(key_server, signing_key) -> None:
    scheme = AmazonSNS(published_keys=key_server.published_keys(), confirm_subscriptions=True)
    key_server.serve(CONFIRM_PATH, b"<ok/>")
    verifier = make_verifier(scheme)
    body = confirmation(signing_key, key_server.url(CONFIRM_PATH))
    verified = await verifier.averify(body, {}, now=NOW)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    running = asyncio.create_task(ticker())
    reply = await scheme.ahandshake_reply(verified, [TOPIC])
    running.cancel()
    assert reply is not None
    assert reply.status == 200
    assert key_server.hits[CONFIRM_PATH] == 1
    assert ticks > 1
    notification = await verifier.averify(message(signing_key), {}, now=NOW)
    assert await scheme.ahandshake_reply(notification, [TOPIC]) is None
