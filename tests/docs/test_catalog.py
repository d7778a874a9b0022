"""The provider catalog page is generated from the registry and kept in step with it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

GENERATOR = Path(__file__).parents[2] / "docs" / "gen_catalog.py"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_catalog", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_catalog_matches_the_registry() -> None:
    generator = _generator()
    assert generator.PAGE.read_text(encoding="utf-8") == generator.render(), (
        "docs/providers/index.md is out of date: run python docs/gen_catalog.py"
    )


def test_every_family_page_the_catalog_links_exists() -> None:
    generator = _generator()
    from hookseal.schemes._registry import PROVIDERS

    for row in PROVIDERS:
        target = generator.ELSEWHERE.get(row.family, f"{row.family}.md")
        assert (generator.PAGE.parent / target).resolve().exists(), row.name
