#!/usr/bin/env bash
# Fetch CIFAR-10 (the official python version, 170 MB) into this folder, or into $CS231N_DATA_DIR.
# A thin wrapper: the work (resume, checksums, safe unpacking) is done by `python -m cs231n.data`.
#   ./get_datasets.sh            # download, verify, unpack
#   ./get_datasets.sh --help     # options (--force, --keep-archive, --url, --quiet)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pkg_parent="$(cd "$here/../.." && pwd)"   # the folder holding the cs231n package

# Prefer the project's venv, then an active virtualenv, then the system python.
if [ -x "$pkg_parent/.venv/bin/python" ]; then
  py="$pkg_parent/.venv/bin/python"
elif [ -n "${VIRTUAL_ENV:-}" ] && [ -x "$VIRTUAL_ENV/bin/python" ]; then
  py="$VIRTUAL_ENV/bin/python"
else
  py="$(command -v python3 || command -v python)"
fi

# Without CS231N_DATA_DIR, download next to this script (cs231n/datasets/), as the original kit did.
export CS231N_DATA_DIR="${CS231N_DATA_DIR:-$here}"
# Make the package importable even when it is not pip-installed.
export PYTHONPATH="$pkg_parent${PYTHONPATH:+:$PYTHONPATH}"

if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  exec "$py" -m cs231n.data download --help
fi
exec "$py" -m cs231n.data download cifar10 "$@"
