"""Write docs/providers/index.md, the provider catalog, from the one provider registry.

Run ``python docs/gen_catalog.py`` after adding a provider; ``tests/docs/test_catalog.py``
fails while the committed page differs from what this prints.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hookseal.schemes._registry import PROVIDERS, Provider, load_class

PAGE = Path(__file__).parent / "providers" / "index.md"
#: Families documented outside docs/providers/.
ELSEWHERE = {"generic-hmac": "../getting-started.md", "rfc9421": "../rfc9421.md"}

HEADER = """# Provider catalog

Every sender hookseal verifies, generated from the one provider registry
(`hookseal/schemes/_registry.py`; regenerate with `python docs/gen_catalog.py`). Each name is
accepted by `hookseal.testing.signed_delivery`, the command line (`--scheme`, for schemes that
build without arguments) and `hookseal explain`, which also recognises the headers listed here.
"Derived" in the last column means the provider publishes no test vector: the scheme is tested
against the algorithm as documented. Each provider's page says what its signature does and does
not protect.

"""


def _cell(text: str | None) -> str:
    return "—" if not text else text.replace("|", "\\|")


def _limit(row: Provider) -> str:
    limit = getattr(load_class(row), "default_max_body_bytes", None)
    if not limit:
        return "1 MiB (generic)"
    if limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MiB"
    return f"{limit // 1024} KiB" if limit % 1024 == 0 else f"{limit} B"


def render() -> str:
    """The catalog page's Markdown."""
    lines = [
        "| provider | names | headers | signature | window | replay identity | handshake "
        "| body limit | source | tested against |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in sorted(PROVIDERS, key=lambda row: row.name):
        page = ELSEWHERE.get(row.family, f"{row.family}.md")
        names = ", ".join(f"`{name}`" for name in (row.name, *row.aliases))
        headers = ", ".join(f"`{header}`" for header in row.headers)
        source = f"[docs]({row.docs})" if row.docs else "—"
        cells = [
            f"[{row.cls}]({page})",
            names,
            _cell(headers),
            _cell(row.algorithm),
            _cell(row.window),
            _cell(row.replay),
            _cell(row.handshake),
            _limit(row),
            source,
            _cell(row.tested),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    count = len(PROVIDERS)
    return HEADER + f"{count} schemes.\n\n" + "\n".join(lines) + "\n"


if __name__ == "__main__":
    PAGE.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {PAGE}\n")
