"""Importing hookseal or hookseal.contrib never imports a framework (no extras needed)."""

from __future__ import annotations

import json
import subprocess
import sys

FRAMEWORKS = ("flask", "werkzeug", "django", "starlette", "fastapi", "asgiref")


def _loaded_after(statement: str) -> list[str]:
    code = (
        f"import json, sys\n{statement}\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({FRAMEWORKS!r}))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60
    )
    return list(json.loads(out.stdout))


def test_core_and_contrib_package_import_no_framework() -> None:
    assert _loaded_after("import hookseal, hookseal.contrib, hookseal.contrib._common") == []


def test_starlette_middleware_is_pure_asgi() -> None:
    assert _loaded_after("import hookseal.contrib.starlette") == []
