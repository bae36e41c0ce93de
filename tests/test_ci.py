"""Under CI=true a test whose data or tool is absent fails instead of skipping."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_pytest(tmp_path, ci: str, *selection):
    env = {**os.environ, "CI": ci, "CS_XL_REALDATA": str(tmp_path / "no-such-folder")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *selection],
                          capture_output=True, text=True, cwd=ROOT, env=env)


def test_absent_real_data_fails_under_ci_and_skips_elsewhere(tmp_path):
    one_each = ["tests/test_realdata.py", "tests/test_load.py", "-k",
                "test_real_reviews_mapped_to_the_feedback_template or test_technion_service_level_at_30_seconds"]
    under_ci = run_pytest(tmp_path, "true", *one_each)
    assert under_ci.returncode == 1 and " failed" in under_ci.stdout and " skipped" not in under_ci.stdout, \
        under_ci.stdout[-2000:]
    assert "required under CI=true" in under_ci.stdout
    elsewhere = run_pytest(tmp_path, "", *one_each)
    assert elsewhere.returncode == 0 and " skipped" in elsewhere.stdout and " failed" not in elsewhere.stdout, \
        elsewhere.stdout[-2000:]
