"""CI cannot go green on skipped fixtures: with LODESTAR_REQUIRE_FIXTURES=1 a skip is a failure.

Each case runs a small test file in a fresh pytest process with the plugin
the suite uses (tests/ci_strict.py), once as CI runs it and once as a
developer does, and reads the outcome counts.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from tests.ci_strict import REQUIRE_ENV
from tests.conftest import REPO_ROOT

MISSING_SHARED = """
    from pathlib import Path
    import pytest

    ABSENT = Path("{absent}")

    @pytest.mark.skipif(not ABSENT.is_dir(), reason=f"shared data not found at {{ABSENT}}")
    def test_reads_shared():
        assert ABSENT.is_dir()

    @pytest.mark.xfail(reason="documented limitation", strict=True)
    def test_known_limitation():
        assert False
"""

UNREACHABLE_REGISTRY = """
    from tests.registry_data import pypi_sdist

    def test_recorded_payloads():
        assert pypi_sdist("perceval", "1.6.1").is_dir()
"""


def _run(pytester: pytest.Pytester, body: str, required: bool, monkeypatch: pytest.MonkeyPatch, **env: str):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if required:
        monkeypatch.setenv(REQUIRE_ENV, "1")
    else:
        monkeypatch.delenv(REQUIRE_ENV, raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    pytester.makepyfile(test_case=textwrap.dedent(body))
    return pytester.runpytest_subprocess("-p", "tests.ci_strict", "-p", "no:cacheprovider", "-rfs")


def test_missing_shared_fails_in_ci_and_skips_locally(pytester, monkeypatch, tmp_path: Path):
    body = MISSING_SHARED.format(absent=tmp_path / "shared" / "data")
    ci = _run(pytester, body, True, monkeypatch)
    ci.assert_outcomes(errors=1, xfailed=1)  # a skip in setup (skipif) becomes a setup error
    assert "shared data not found at" in ci.stdout.str()
    assert f"{REQUIRE_ENV}=1" in ci.stdout.str()
    assert ci.ret == 1

    local = _run(pytester, body, False, monkeypatch)
    local.assert_outcomes(skipped=1, xfailed=1)
    assert "shared data not found at" in local.stdout.str()
    assert local.ret == 0


def test_unreachable_registry_fails_in_ci(pytester, monkeypatch, tmp_path: Path):
    """An empty fixture cache and a registry that refuses connections: the download cannot happen."""
    unreachable = {
        "LODESTAR_TEST_CACHE": str(tmp_path / "empty-cache"),
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
        "PIP_EXTRA_INDEX_URL": "",
        "PIP_FIND_LINKS": "",
        "PIP_RETRIES": "0",
        "PIP_DEFAULT_TIMEOUT": "2",
        "PIP_CONFIG_FILE": os.devnull,
    }
    ci = _run(pytester, UNREACHABLE_REGISTRY, True, monkeypatch, **unreachable)
    ci.assert_outcomes(failed=1)
    assert "PyPI unreachable or perceval==1.6.1 sdist missing" in ci.stdout.str()

    local = _run(pytester, UNREACHABLE_REGISTRY, False, monkeypatch, **unreachable)
    local.assert_outcomes(skipped=1)
