"""A subclass that only renames a built-in scheme keeps one replay identity on both paths.

The fast check and the general check must report the same scheme name: the replay keys are
personalised with it, so two names for one delivery would record it twice (accepted once by
the fast path, and again when a variant of the same bytes takes the general path).
"""

from __future__ import annotations

import pytest

from hookseal import ReplayedDelivery, Signer, Verifier
from hookseal.schemes import GitHub, Slack, StandardWebhooks, Stripe
from hookseal.stores.memory import MemoryNonceStore

NOW = 1_700_000_000
BODY = b'{"event": "ping"}'
SECRETS = {
    GitHub: "gh-secret",
    Stripe: "whsec_test",
    Slack: "slack-secret",
    StandardWebhooks: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
}


@pytest.mark.parametrize("base", list(SECRETS), ids=lambda cls: cls.__name__)
def test_a_renamed_subclass_reports_its_name_on_both_paths(base) -> None:
    renamed = type("Renamed" + base.__name__, (base,), {"name": "tenant-" + base.name})
    secret = SECRETS[base]
    headers = Signer(renamed(), secret).sign(BODY, timestamp=NOW, msg_id="msg_1")
    fast = Verifier(renamed(), [secret], nonce_store=None).verify(BODY, headers, now=NOW)
    general = Verifier(renamed(), [secret], nonce_store=None).verify(
        BODY, list(headers.items()), now=NOW  # header lines: a path the fast checks decline
    )
    assert fast.scheme == general.scheme == renamed.name
    assert fast.replay_keys == general.replay_keys


@pytest.mark.parametrize("base", list(SECRETS), ids=lambda cls: cls.__name__)
def test_one_delivery_is_recorded_once_whichever_path_accepts_it(base) -> None:
    renamed = type("Renamed" + base.__name__, (base,), {"name": "tenant-" + base.name})
    secret = SECRETS[base]
    verifier = Verifier(renamed(), [secret], nonce_store=MemoryNonceStore())
    headers = Signer(renamed(), secret).sign(BODY, timestamp=NOW, msg_id="msg_1")
    verifier.verify(BODY, headers, now=NOW)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, list(headers.items()), now=NOW)
