#!/usr/bin/env bash
# The shell way to install a Helm release archive, which `npm run bench` compares with the
# action's installer: download, verify against the published .sha256sum, extract.
#
#   download.sh BASE_URL ARCHIVE_NAME   (run in an empty directory)
set -euo pipefail
curl -fsSLO "$1/$2"
curl -fsSLO "$1/$2.sha256sum"
sha256sum -c "$2.sha256sum"
tar xzf "$2"
