#!/usr/bin/env bash
# Makes .venvs/3.12 and .venvs/3.13: trialsieve with its pinned dependencies and pytest
# (the "core-test" extra) on each Python supported besides the 3.11 of .venv, so that
# tests/test_pythons.py runs the screening tests on them too. Interpreters are taken from
# pyenv (the CI image has them) or PATH; one not found is reported here, and that test
# then fails rather than skip. Installs only what is missing; no network at test time.
set -euo pipefail
cd "$(dirname "$0")/.."
for v in 3.12 3.13; do
  py=""
  for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/python"$v" \
                   "$(command -v "python$v" || true)"; do
    if [ -x "$candidate" ] && "$candidate" -c "" 2>/dev/null; then py=$candidate; fi
  done
  if [ -z "$py" ]; then
    echo "other-pythons: no Python $v found (pyenv or PATH)" >&2
    continue
  fi
  [ -x ".venvs/$v/bin/python" ] || "$py" -m venv ".venvs/$v"
  ".venvs/$v/bin/python" -m pip install -q -e ".[core-test]"
done
