"""Build the one-folder app with PyInstaller, then run the built app's --self-test.

A bundle that builds is not a bundle that works (a migration file, a keyring backend or a
Qt plugin left out only shows when the frozen app runs), so the build fails unless the
self-test of what was just built passes.

Usage: python packaging/build.py [--skip-build]     (exit code: 0 ok, 1 build or test failed)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "trueup.spec"
DIST = ROOT / "build" / "dist"
WORK = ROOT / "build" / "work"
BUNDLE = DIST / "trueup"
SELF_TEST_TIMEOUT = 300


def launcher() -> Path:
    """The console launcher on Windows (the windowed one has no stdout to print to)."""
    if sys.platform == "win32":
        return BUNDLE / "trueup-cli.exe"
    return BUNDLE / "trueup"


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def build() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "PyInstaller", str(SPEC), "--noconfirm",
                    "--distpath", str(DIST), "--workpath", str(WORK)], cwd=ROOT, check=True)
    return time.perf_counter() - started


def self_test(extra: list[str]) -> subprocess.CompletedProcess:
    """Run from outside the source tree, so the bundle cannot lean on files in it."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([str(launcher()), "--self-test", *extra], cwd=DIST, env=env,
                          capture_output=True, text=True, timeout=SELF_TEST_TIMEOUT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-build", action="store_true",
                        help="only run the self-test of the existing bundle")
    parser.add_argument("--require-keyring", action="store_true",
                        help="fail when the build machine has no working OS keyring")
    args = parser.parse_args(argv)
    try:
        seconds = 0.0 if args.skip_build else build()
    except subprocess.CalledProcessError as exc:
        print(f"build: PyInstaller failed (exit {exc.returncode})", file=sys.stderr)
        return 1
    result = self_test([] if args.require_keyring else ["--allow-no-keyring"])
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    size_mb = folder_size(BUNDLE) / 1_000_000
    timing = f"built in {seconds:.0f} s, " if seconds else ""
    print(f"build: {BUNDLE} — {timing}{size_mb:.0f} MB; self-test exit {result.returncode}")
    return 0 if result.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
