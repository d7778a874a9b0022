"""Development sessions: tests on every supported Python, lint, type check, docs, benchmarks."""

from __future__ import annotations

import glob
import os
import shutil

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "typecheck", "docs"]
nox.options.error_on_missing_interpreters = bool(os.environ.get("CI"))

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
COVERAGE_PYTHON = "3.11"


def _put_installed_pythons_on_path() -> None:
    """Make every installed CPython 3.10-3.13 findable as ``python3.X``.

    pyenv installs them side by side but puts only the active one on ``PATH``; without this,
    nox would skip the others as missing. Interpreters that are not installed at all stay
    missing: nox's summary lists them as skipped (and CI fails on them).
    """
    roots = [os.environ.get("PYENV_ROOT", ""), os.path.expanduser("~/.pyenv")]
    found: list[str] = []
    for root in filter(None, roots):
        for version in PYTHONS:
            for candidate in sorted(glob.glob(os.path.join(root, "versions", version + ".*"))):
                binary = os.path.join(candidate, "bin")
                if os.path.exists(os.path.join(binary, "python" + version)):
                    found.append(binary)
                    break
    if found:
        os.environ["PATH"] = os.pathsep.join([*dict.fromkeys(found), os.environ["PATH"]])


_put_installed_pythons_on_path()

# Let Python cache the bytecode it compiles (``__pycache__``, ignored by git). uv installs
# packages without compiling them, so with PYTHONDONTWRITEBYTECODE set (some CI images set
# it) every process -- each pytest-xdist worker and each subprocess the suite starts --
# compiled hookseal and every dependency it imports from source again: about a third of
# the subprocess-heavy tests' time (tests/cli, tests/examples).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole test suite with every extra installed (needs redis-server on PATH)."""
    session.install("-e", ".[all,test]")
    # One pytest worker per CPU (pytest-xdist); pass other pytest options after "--".
    args = session.posargs or ["-n", "auto"]
    if session.python != COVERAGE_PYTHON:
        session.run("pytest", *args)
        return
    # Branch coverage is measured (and reported) on one interpreter, where it costs the
    # least wall time; coverage starts before pytest so the pytest plugin's imports count,
    # and follows the workers pytest-xdist starts (coverage's patch = ["subprocess"]).
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", *args)
    session.run("coverage", "combine", "--quiet")
    session.run("coverage", "report", "--fail-under=95")


@nox.session(python="3.11")
def tests_core(session: nox.Session) -> None:
    """The suite without hookseal's extras (no framework, no redis): the core stands alone.

    The test-only dependencies (the providers' SDKs used as oracles) are installed; tests that
    need an extra are marked ``extras`` and deselected, and the modules that import an extra
    at collection time (the adapters, the Redis store) are not collected.
    """
    session.install("-e", ".[test]")
    session.run(
        "pytest",
        "-n",
        "auto",
        "-m",
        "not extras",
        "-p",
        "no:cacheprovider",
        "--ignore=tests/adapters",
        # Published-key senders through the Starlette middleware.
        "--ignore=tests/published_keys/test_adapters.py",
        # Modules importing an extra at collection time: the adapters and the Redis tests
        # (named test_redis_*.py wherever they live).
        "--ignore-glob=tests/*/test_redis_*.py",
        "--ignore-glob=tests/*/test_postgres_*.py",
        *session.posargs,
    )


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff over the whole repository."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy --strict over src/hookseal; the public API's typed usage under mypy and pyright.

    pyright's ``nodejs`` extra brings Node.js as a wheel, so nothing is downloaded at run time.
    """
    session.install("-e", ".[all]", "mypy>=1.10", "pytest>=8", "pyright[nodejs]>=1.1.380")
    session.run("mypy", "--strict", "src/hookseal")
    session.run("mypy", "--strict", "tests/typing/api.py")
    # The bundled pyright and Node.js wheel: no version check or download at run time.
    session.run("pyright", "tests/typing/api.py", env={"PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"})


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """Build the documentation site; any warning fails the build."""
    session.install("-e", ".[all]", "-r", "docs/requirements.txt")
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", "build/site", env={"NO_MKDOCS_2_WARNING": "1"}
    )


@nox.session(python="3.11")
def tour(session: nox.Session) -> None:
    """The README's main job: a real receiver on 127.0.0.1 and real deliveries."""
    session.install("-e", ".")
    session.run("python", "examples/tour.py")


def _ensure_wrk(session: nox.Session) -> None:
    """Install wrk (the end-to-end benchmark's load generator) when missing and root."""
    if shutil.which("wrk") is not None:
        return
    is_root = getattr(os, "geteuid", lambda: -1)() == 0
    if is_root and shutil.which("apt-get") is not None:
        session.log("wrk not found: installing it with apt-get")
        install = ("apt-get", "install", "-y", "--no-install-recommends", "wrk")
        session.run(*install, external=True, success_codes=[0, 100])
        if shutil.which("wrk") is None:  # an empty or stale package list: refresh, retry
            session.run("apt-get", "update", external=True)
            session.run(*install, external=True)
    if shutil.which("wrk") is None:
        session.error(
            "The end-to-end benchmark needs wrk, which is not installed (and this session can "
            "only install it as root with apt-get). Install it (Debian/Ubuntu: sudo apt-get "
            "install wrk; macOS: brew install wrk) and run again, or skip the end-to-end table: "
            "nox -s bench -- --no-e2e"
        )


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Side-by-side benchmarks against the providers' SDKs, the fast checks, the replay
    stores and the end-to-end benchmark (uvicorn + wrk); rewrites docs/performance.md. Then
    the allowlist lookup and nonce-store benchmarks (figures for docs/ pages).

    Arguments after ``--`` go to benchmarks/run.py (``--quick``, ``--no-e2e``, ``--rounds``).
    """
    # uvicorn[standard] (httptools, uvloop): the server as it is usually deployed.
    session.install("-e", ".[all,test]", "uvicorn[standard]")
    if "--no-e2e" not in session.posargs:
        _ensure_wrk(session)
    session.run("python", "benchmarks/run.py", *session.posargs)
    session.run("python", "benchmarks/bench_allowlist.py")
    session.run("python", "benchmarks/bench_nonce.py")


FUZZ_TARGETS = ["timestamp", "encoding", "forwarded", "scheme_headers", "rfc9421"]


@nox.session(python="3.11")
def fuzz(session: nox.Session) -> None:
    """Run each atheris target in fuzz/ for a bounded time (not in the default run)."""
    session.install("-e", ".[all]", "atheris")
    seconds = session.posargs[0] if session.posargs else "60"
    for target in FUZZ_TARGETS:
        corpus = f"{session.create_tmp()}/corpus-{target}"
        shutil.copytree(f"fuzz/corpus/{target}", corpus, dirs_exist_ok=True)
        session.run("python", f"fuzz/fuzz_{target}.py", f"-max_total_time={seconds}", corpus)
