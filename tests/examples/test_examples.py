"""Every example runs in a subprocess and exits 0; the self-checking ones also say so.

The tour, the quick start and the provider examples check their own verdicts and exit 1 on
any unexpected one; the framework receivers (flask_app.py, ...) are applications, so
running them as a script checks that they build their app and verifiers without error.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PROVIDERS = EXAMPLES / "providers"

#: Extra arguments for examples that are applications rather than scripts.
ARGUMENTS = {"django_app.py": ["check"]}
#: The line a self-checking example prints when every verdict was the expected one.
SUCCESS = {
    "tour.py": "every verdict was the expected one",
    "quickstart.py": "all verdicts as expected",
    "observability_app.py": "all counts as expected",
    "lambda_handler.py": "every verdict was the expected one",
}
#: Examples needing an optional dependency (the rest need only hookseal).
NEEDS_EXTRAS = {
    "flask_app.py",
    "django_app.py",
    "starlette_app.py",
    "fastapi_app.py",
    "rfc9421.py",
    "observability_app.py",
    "aiohttp_app.py",
    "litestar_app.py",
}


def _examples() -> list[Path]:
    found = sorted(EXAMPLES.glob("*.py")) + sorted(PROVIDERS.glob("*.py"))
    return [path for path in found if not path.name.startswith("_")]


def _params() -> list[object]:
    params = []
    for path in _examples():
        marks = [pytest.mark.extras] if path.name in NEEDS_EXTRAS else []
        params.append(pytest.param(path, id=str(path.relative_to(EXAMPLES)), marks=marks))
    return params


def run_example(path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return subprocess.run(
        [sys.executable, str(path), *ARGUMENTS.get(path.name, [])],
        capture_output=True,
        text=True,
        cwd=EXAMPLES.parent,
        env=env,
        timeout=60,
        check=False,
    )


def test_the_required_examples_exist() -> None:
    names = {str(path.relative_to(EXAMPLES)) for path in _examples()}
    providers = {
        "standard_webhooks",
        "github",
        "stripe",
        "slack",
        "shopify",
        "twilio",
        "discord",
        "paddle",
        "workos",
        "shared_token",
        "rfc9421",
    }
    assert {"tour.py", "quickstart.py"} <= names
    assert {f"providers/{name}.py" for name in providers} <= names


def test_every_example_is_listed_in_the_readme() -> None:
    readme = (EXAMPLES / "README.md").read_text()
    for path in _examples():
        relative = path.relative_to(EXAMPLES.parent).as_posix()
        assert relative in readme, f"{relative} is missing from examples/README.md"


@pytest.mark.parametrize("path", _params())
def test_example_runs_and_exits_0(path: Path) -> None:
    result = run_example(path)
    assert result.returncode == 0, result.stdout + result.stderr
    if path.parent == PROVIDERS:
        assert result.stdout.rstrip().endswith("all verdicts as expected"), result.stdout
        assert " NO, expected " not in result.stdout
    elif path.name in SUCCESS:
        assert SUCCESS[path.name] in result.stdout


def test_tour_table_covers_every_kind_of_bad_delivery() -> None:
    result = run_example(EXAMPLES / "tour.py")
    assert result.returncode == 0, result.stdout + result.stderr
    for reason in (
        "accepted",
        "replayed",
        "signature_mismatch",
        "timestamp_too_old",
        "timestamp_in_future",
        "missing_header",
        "malformed_header",
        "payload_too_large",
        "forbidden_address",
    ):
        assert f" {reason} " in result.stdout
    assert "UNEXPECTED" not in result.stdout


def test_a_provider_example_fails_when_a_verdict_is_wrong(tmp_path: Path) -> None:
    # The control: a provider example whose expectation is wrong exits 1.
    source = (PROVIDERS / "github.py").read_text()
    broken = tmp_path / "github_broken.py"
    broken.write_text(source.replace('"replayed")', '"accepted")'))
    (tmp_path / "_demo.py").write_text((PROVIDERS / "_demo.py").read_text())
    result = run_example(broken)
    assert result.returncode == 1
    assert "FAILED: 1 unexpected" in result.stdout
