"""The shared demo loop of the provider examples: verify each case, print a verdict table.

Not an example itself: each provider example builds its verifier as an application would and
hands its cases here. ``run`` returns 0 only if every verdict is the expected one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hookseal import VerificationError, Verifier


@dataclass
class Case:
    name: str
    body: bytes
    headers: Mapping[str, str]
    expected: str  # "accepted" or a reason code
    options: dict[str, Any] = field(default_factory=dict)  # url=..., method=...


def receive(verifier: Verifier, case: Case) -> str:
    """What a receiver does: verify, and only then hand ``verified.body`` to business logic."""
    try:
        verified = verifier.verify(case.body, case.headers, **case.options)
    except VerificationError as error:
        return error.reason
    assert verified.body == case.body
    return "accepted"


def run(title: str, verifier: Verifier, cases: list[Case]) -> int:
    # hookseal logs every rejection on the "hookseal" logger; this demo shows them in its table.
    logging.getLogger("hookseal").setLevel(logging.ERROR)
    print(f"{title}\n{'case':44} {'verdict':26} ok?")
    failures = 0
    for case in cases:
        verdict = receive(verifier, case)
        ok = verdict == case.expected
        failures += not ok
        print(f"{case.name:44} {verdict:26} {'yes' if ok else 'NO, expected ' + case.expected}")
    print("all verdicts as expected" if not failures else f"FAILED: {failures} unexpected")
    return 1 if failures else 0
