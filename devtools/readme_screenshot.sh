#!/usr/bin/env bash
# Refresh docs/screenshots/instances.png, the README's picture of the dashboard: a browser
# test fills an account with machines and photographs its instances page.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
devtools/test.sh -q -p no:cacheprovider tests/browser/test_readme_screenshot.py
mkdir -p docs/screenshots
cp test-artifacts/screenshots/readme-instances.png docs/screenshots/instances.png
echo "docs/screenshots/instances.png refreshed"
