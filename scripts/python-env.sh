# Sourced by scripts/demo.sh and scripts/test.sh: picks the Python environment and installs into it exactly
# the tested dependency set, so the README's two commands behave the same on any machine, any day.
#
#   - $PYTHON, if set, is used as it is (your own environment; it must be a venv or one you may install into);
#   - else an active virtual environment ($VIRTUAL_ENV) is used;
#   - else ./.venv is created once (python3 -m venv) and used; `source .venv/bin/activate` afterwards gives
#     your shell the same `vlmeval-steps` and `snakemake`.
# Into it: torch 2.13.0 first (the CPU build; anything else pulls GB of CUDA packages), then this project with
# every other package at the version in requirements/lock.txt (pip's constraints file, made by
# scripts/lock.sh). VLMEVAL_STEPS_DEPS=newest installs the newest versions that pyproject.toml's ranges allow
# instead, into ./.venv-newest: the check to run before refreshing the lock.
#
# Usage: source scripts/python-env.sh; install_project ".[test]"   (then "$PY" is the environment's python)

VLMEVAL_STEPS_DEPS=${VLMEVAL_STEPS_DEPS:-locked}
case "$VLMEVAL_STEPS_DEPS" in
  locked|newest) ;;
  *) echo "VLMEVAL_STEPS_DEPS must be 'locked' (the default) or 'newest', not '$VLMEVAL_STEPS_DEPS'" >&2; exit 2 ;;
esac

if [ -n "${PYTHON:-}" ]; then
  PY=$PYTHON
elif [ -n "${VIRTUAL_ENV:-}" ] && [ "$VLMEVAL_STEPS_DEPS" = locked ]; then
  PY=$VIRTUAL_ENV/bin/python
else
  venv=.venv; [ "$VLMEVAL_STEPS_DEPS" = newest ] && venv=.venv-newest
  if [ ! -x "$venv/bin/python" ]; then
    echo "python-env: creating the virtual environment ./$venv (python3 -m venv)"
    python3 -m venv "$venv"
  fi
  PY=$(pwd)/$venv/bin/python
  # as `source $venv/bin/activate` would: the environment's console scripts (snakemake, transformers) first
  export VIRTUAL_ENV=$(pwd)/$venv PATH=$(pwd)/$venv/bin:$PATH
fi

install_project() {  # $1: what to install, e.g. "." or ".[test]"
  echo "python-env: installing into $("$PY" -c 'import sys; print(sys.prefix)'): torch 2.13.0 (CPU), then $1" \
       "with $([ "$VLMEVAL_STEPS_DEPS" = locked ] && echo "the locked versions (requirements/lock.txt)" \
               || echo "the newest versions pyproject.toml allows")"
  "$PY" -m pip install --quiet "torch==2.13.0"
  if [ "$VLMEVAL_STEPS_DEPS" = locked ]; then
    "$PY" -m pip install --quiet -c requirements/lock.txt -e "$1"
  else
    # torch stays 2.13.0 (requirements/torch.in): an eager upgrade would pull a newer torch with GB of CUDA
    "$PY" -m pip install --quiet --upgrade --upgrade-strategy eager -c requirements/torch.in -e "$1"
  fi
}
