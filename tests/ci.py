"""What a test does when something it needs is absent: skip on a developer's machine,
fail under CI (``CI=true``), where a silent skip would hide that the check never ran."""
from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def absent(reason: str) -> None:
    """Skip with ``reason`` — or, under CI, fail with it."""
    if in_ci():
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)
