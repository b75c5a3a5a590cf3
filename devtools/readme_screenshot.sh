#!/usr/bin/env bash
# Refresh the README's pictures: docs/screenshots/instances.png (a browser test fills an
# account with machines and photographs its instances page) and admin-overview.png (the
# operator console's overview of a business with three months of figures).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
devtools/test.sh -q -p no:cacheprovider tests/browser/test_readme_screenshot.py \
  "tests/browser/test_admin_console.py::test_the_overview_for_the_readme"
mkdir -p docs/screenshots
cp test-artifacts/screenshots/readme-instances.png docs/screenshots/instances.png
cp test-artifacts/screenshots/readme-admin-overview.png docs/screenshots/admin-overview.png
echo "docs/screenshots/instances.png and admin-overview.png refreshed"
