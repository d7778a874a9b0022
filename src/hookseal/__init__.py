"""hookseal: verify webhook deliveries before any business logic runs.

Authentic (constant-time signature checks with key rotation), fresh (timestamp window),
unreplayed (nonce store) and from an allowed network (IP allowlist behind trusted proxies),
for Standard Webhooks, GitHub, Stripe, Slack, Shopify, Twilio, RFC 9421 and generic HMAC.
"""

from ._delivery import Delivery as Delivery
from ._delivery import Verified as Verified
from ._errors import ConfigurationError as ConfigurationError
from ._errors import ForbiddenAddress as ForbiddenAddress
from ._errors import KeyUnavailable as KeyUnavailable
from ._errors import MalformedHeader as MalformedHeader
from ._errors import MissingHeader as MissingHeader
from ._errors import NonceStoreUnavailable as NonceStoreUnavailable
from ._errors import PayloadTooLarge as PayloadTooLarge
from ._errors import Reason as Reason
from ._errors import ReplayedDelivery as ReplayedDelivery
from ._errors import SignatureMismatch as SignatureMismatch
from ._errors import TimestampOutOfTolerance as TimestampOutOfTolerance
from ._errors import VerificationError as VerificationError
from ._events import JSONLinesSink as JSONLinesSink
from ._events import VerificationEvent as VerificationEvent
from ._handshake import HandshakeReply as HandshakeReply
from ._headers import Headers as Headers
from ._signer import Signer as Signer
from ._verifier import Verifier as Verifier
from .network import IPAllowlist as IPAllowlist

__version__ = "0.1.0"

__all__ = [
    "ConfigurationError",
    "Delivery",
    "ForbiddenAddress",
    "HandshakeReply",
    "Headers",
    "IPAllowlist",
    "JSONLinesSink",
    "KeyUnavailable",
    "MalformedHeader",
    "MissingHeader",
    "NonceStoreUnavailable",
    "PayloadTooLarge",
    "Reason",
    "ReplayedDelivery",
    "SignatureMismatch",
    "Signer",
    "TimestampOutOfTolerance",
    "VerificationError",
    "VerificationEvent",
    "Verified",
    "Verifier",
    "__version__",
]
