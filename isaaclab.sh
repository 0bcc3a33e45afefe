#!/usr/bin/env bash
# Isaac Lab Trainer launcher, with the flags Isaac Lab users know.
#   -i, --install     create .venv in the repo with the package and its dependencies
#                     (inside an Isaac Sim install, i.e. with $ISAACSIM_PATH set, use Isaac Sim's python)
#   -i isaaclab       the same with Isaac Lab 3.0 (isaaclab[sb3]==3.0.0, Python 3.12, its own torch and Newton)
#                     instead of the headless extra: its tasks train as --task isaaclab:<id>
#   -p, --python ...  run python in that environment (installs first if missing)
#   -t, --test ...    run the test suite (installs first if missing); extra args go to pytest
#                     (run as root, -i and -t also install the Debian packages the 3-D videos and the
#                     browser tests need: Mesa's OpenGL/EGL and chromium)
#   -s, --sim ...     launch Isaac Sim with this repo's extension folder and the extension enabled
#   -h, --help        this help
# Environment: PYTHON (base interpreter of a new venv, default python3), ISAACLAB_VENV (venv folder,
# default <repo>/.venv; e.g. PYTHON=python3.12 ISAACLAB_VENV=.venv-py312 for Isaac Sim 6's Python),
# ISAACSIM_PATH (an Isaac Sim 5.1 or 6.x install).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$(realpath -m "${ISAACLAB_VENV:-$REPO/.venv}")"
EXT_DIR="$REPO/exts/isaaclab_trainer"
TORCH_VERSION="2.13.0"

usage() { sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

in_isaacsim() { [[ -n "${ISAACSIM_PATH:-}" && -x "${ISAACSIM_PATH}/python.sh" ]]; }

python_cmd() {
    if in_isaacsim; then echo "${ISAACSIM_PATH}/python.sh"; else echo "$VENV/bin/python"; fi
}

install() {
    local py extra="${1:-}" pip_args=(--disable-pip-version-check -q)
    if [[ -n "$extra" && "$extra" != isaaclab ]]; then
        echo "[isaaclab.sh] error: unknown install option '$extra' (accepted: isaaclab)" >&2
        exit 2
    fi
    [[ -d /opt/wheels ]] && pip_args+=(--find-links /opt/wheels)
    if in_isaacsim; then
        py="$(python_cmd)"
        echo "[isaaclab.sh] installing into Isaac Sim's python ($py); Isaac Sim provides torch and USD"
        # no [headless] extra: usd-core would shadow Kit's own pxr
        "$py" -m pip install "${pip_args[@]}" -e "$EXT_DIR[video,test,export]"
        return
    fi
    if [[ ! -x "$VENV/bin/python" ]]; then
        local base="${PYTHON:-python3}"
        "$base" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
            || { echo "[isaaclab.sh] error: Python >= 3.10 is needed ($base is $("$base" --version 2>&1))" >&2; exit 1; }
        echo "[isaaclab.sh] creating $VENV"
        "$base" -m venv "$VENV"
    fi
    py="$VENV/bin/python"
    if [[ "$extra" == isaaclab ]]; then
        # Isaac Lab pins its own torch, warp and newton[sim] (older than the headless extra's newton): no headless
        "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' \
            || { echo "[isaaclab.sh] error: Isaac Lab 3.0 needs Python 3.12 (PYTHON=python3.12 ./isaaclab.sh -i isaaclab)" >&2; exit 1; }
        "$py" -m pip install "${pip_args[@]}" -e "$EXT_DIR[isaaclab,video,test,export,ray,browser]"
        install_gl
        install_browser
        # through our task source, which registers Isaac Lab's tasks beside ours (gymnasium refuses the clash otherwise)
        "$py" -c 'from isaaclab_trainer import tasks; tasks.check_task("isaaclab:Isaac-Cartpole")' \
            || { echo "[isaaclab.sh] error: Isaac Lab's tasks do not load in $VENV (above)" >&2; exit 1; }
        touch "$VENV/.installed"
        echo "[isaaclab.sh] installed with Isaac Lab; its tasks are --task isaaclab:<id>"
        return
    fi
    # CPU torch first, pinned, so that no dependency pulls a multi-GB CUDA build
    "$py" -m pip install "${pip_args[@]}" "torch==$TORCH_VERSION"
    "$py" -m pip install "${pip_args[@]}" -e "$EXT_DIR[headless,video,test,export,ray,browser]"
    install_gl
    install_browser
    "$py" -c 'import isaaclab_trainer' && touch "$VENV/.installed"
    echo "[isaaclab.sh] installed; run python with: ./isaaclab.sh -p ..."
}

# apt_install WHAT NOTE PACKAGE...: install Debian packages when run as root (apt-get), else print NOTE and the line
apt_install() {
    local what="$1" note="$2"
    shift 2
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        echo "[isaaclab.sh] installing $what: $*"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    else
        echo "[isaaclab.sh] note: $note: sudo apt-get install $*"
    fi
}

# Debian packages of Mesa's software OpenGL through EGL, which --video's 3-D clips need (no GPU, no display)
GL_PACKAGES=(libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri)

install_gl() {
    if ldconfig -p 2>/dev/null | grep -q 'libEGL_mesa.so.0' && ldconfig -p | grep -q 'libGL.so.1'; then
        return
    fi
    apt_install "Mesa OpenGL/EGL for 3-D videos" "--video draws 2-D clips until Mesa's OpenGL is installed" \
        "${GL_PACKAGES[@]}"
}

# Debian's Chromium, the real browser tests/test_browser_panel.py clicks the browser panel in (Playwright drives
# it at ui/browser.py's CHROMIUM path; nothing is downloaded)
install_browser() {
    [[ -x /usr/bin/chromium ]] && return
    apt_install "Debian's chromium for the browser panel's tests" "tests/test_browser_panel.py needs Debian's Chromium" \
        chromium
}

ensure_installed() {
    if in_isaacsim; then
        "$(python_cmd)" -c 'import isaaclab_trainer' 2>/dev/null || install
    elif [[ ! -f "$VENV/.installed" ]]; then
        install
    fi
}

# Isaac Sim's version: VERSION beside the launcher (binary install, also 6.x source builds) or the pip package's
isaacsim_version() {
    if [[ -n "${1:-}" && -f "$1/VERSION" ]]; then
        head -n1 "$1/VERSION"
        return
    fi
    local py
    for py in "${2:-}" python3; do
        [[ -n "$py" ]] && "$py" -c 'import importlib.metadata as m; print(m.version("isaacsim"))' 2>/dev/null && return
    done
    echo unknown
}

launch_sim() {
    local launcher="" version="" pip_launcher=""
    if [[ -n "${ISAACSIM_PATH:-}" && -x "${ISAACSIM_PATH}/isaac-sim.sh" ]]; then
        launcher="${ISAACSIM_PATH}/isaac-sim.sh"
        version="$(isaacsim_version "$ISAACSIM_PATH")"
    else
        # the pip package's console script: on PATH, or in this repo's venv (Isaac Sim 6 wants Python 3.12)
        pip_launcher="$(command -v isaacsim 2>/dev/null || true)"
        [[ -z "$pip_launcher" && -x "$VENV/bin/isaacsim" ]] && pip_launcher="$VENV/bin/isaacsim"
        if [[ -z "$pip_launcher" ]]; then
            echo "[isaaclab.sh] error: no Isaac Sim found: set ISAACSIM_PATH to an Isaac Sim 6.x or 5.1 install, or 'pip install isaacsim[all,extscache]==6.*' (Python 3.12) or '==5.1.*' (Python 3.11)" >&2
            exit 1
        fi
        version="$(isaacsim_version "" "$(dirname "$pip_launcher")/python")"
        launcher="$pip_launcher isaacsim.exp.full"
    fi
    case "$version" in
        5.1*|6.*) ;;
        *) echo "[isaaclab.sh] warning: Isaac Sim '$version' found; this extension is checked against 5.1 and 6.0-6.2" >&2 ;;
    esac
    echo "[isaaclab.sh] Isaac Sim $version: ${launcher%% *}"
    # shellcheck disable=SC2086
    exec $launcher --ext-folder "$REPO/exts" --enable isaaclab_trainer "$@"
}

case "${1:-}" in
    -i|--install) install "${2:-}" ;;
    -p|--python) shift; ensure_installed; exec "$(python_cmd)" "$@" ;;
    -t|--test) shift; ensure_installed; install_browser; cd "$REPO"; exec "$(python_cmd)" -m pytest "$@" ;;
    -s|--sim) shift; launch_sim "$@" ;;
    -h|--help|"") usage ;;
    *) echo "[isaaclab.sh] error: unknown option '$1'" >&2; usage >&2; exit 2 ;;
esac
