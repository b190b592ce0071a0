"""Third-party recorded payloads for tests, fetched from a package registry once and cached.

Tests that use them skip with a clear reason when the registry cannot be reached.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("LODESTAR_TEST_CACHE", Path.home() / ".cache" / "lodestar-test-data"))


def _extract(archive: Path, target: Path) -> Path:
    staging = Path(tempfile.mkdtemp(dir=CACHE))
    with tarfile.open(archive) as tar:
        tar.extractall(staging, filter="data")
    staging.rename(target)
    return target


def pypi_sdist(name: str, version: str) -> Path:
    """Unpacked source distribution of NAME==VERSION from PyPI (its top folder)."""
    target = CACHE / f"pypi-{name}-{version}"
    if not target.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=CACHE) as download:
            result = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--quiet",
                 f"{name}=={version}", "-d", download],
                capture_output=True, text=True, timeout=300,
            )
            archives = list(Path(download).glob("*.tar.gz"))
            if result.returncode != 0 or not archives:
                pytest.skip(f"PyPI unreachable or {name}=={version} sdist missing: {result.stderr.strip()[-300:]}")
            _extract(archives[0], target)
    return next(p for p in target.iterdir() if p.is_dir())


def npm_package(name: str, version: str) -> Path:
    """Unpacked npm package NAME@VERSION (its `package/` folder)."""
    safe = name.replace("/", "__").replace("@", "")
    target = CACHE / f"npm-{safe}-{version}"
    if not target.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=CACHE) as download:
            try:
                result = subprocess.run(
                    ["npm", "pack", f"{name}@{version}", "--pack-destination", download, "--silent"],
                    capture_output=True, text=True, timeout=300,
                )
            except FileNotFoundError:
                pytest.skip("npm is not installed; cannot fetch npm test fixtures")
            archives = list(Path(download).glob("*.tgz"))
            if result.returncode != 0 or not archives:
                pytest.skip(f"npm registry unreachable or {name}@{version} missing: {result.stderr.strip()[-300:]}")
            _extract(archives[0], target)
    return target / "package"
