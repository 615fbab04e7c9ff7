#!/usr/bin/env bash
# Install, upgrade or remove the kiosk on Raspberry Pi OS (Bookworm).
#
#   sudo ./install.sh                 install, or upgrade in place (safe to re-run)
#   sudo ./install.sh --uninstall     remove the program; keep scans and kiosk.toml
#   sudo ./install.sh --uninstall --purge   also delete scans, config and the user
#   ./install.sh --root DIR           put every file under DIR; no apt, no systemctl
#
# Re-running never overwrites /etc/kiosk/kiosk.toml or the credentials file;
# the shipped configuration is refreshed as /etc/kiosk/kiosk.toml.example.

# "sh install.sh" runs this under dash, which has no arrays or pipefail: start
# again under bash (kept POSIX up to the exec so dash can read it).
if [ -z "${BASH_VERSION:-}" ]; then
    if ! command -v bash >/dev/null 2>&1; then
        echo "kiosk-install: error: bash is needed (sudo apt-get install bash)" >&2
        exit 1
    fi
    if [ ! -f "$0" ]; then
        echo "kiosk-install: error: run it as a file: sudo sh ./install.sh" >&2
        exit 1
    fi
    exec bash "$0" "$@"
fi
set -euo pipefail

SRC=$(cd -- "$(dirname -- "$0")" && pwd)
PYTHON=${PYTHON:-python3}
# Extra arguments for "pip install" (CI uses --no-deps to stay off the network).
PIP_ARGS=${KIOSK_PIP_ARGS:-}
USER_NAME=kiosk
GROUPS_WANTED=(input gpio i2c spi)
# Debian/Raspberry Pi OS packages: prebuilt evdev, smbus2, Pillow and spidev
# spare a Pi Zero long compiles; gcc and python3-dev cover anything pip builds.
APT_PACKAGES=(python3 python3-venv python3-dev gcc i2c-tools
    python3-evdev python3-smbus2 python3-pil python3-spidev)
# Only in the Raspberry Pi archive: gpiozero's pin driver (required on a Pi 5).
APT_OPTIONAL=(python3-lgpio)

ARGS=$*
ROOT=""
MODE=install
PURGE=0
WITH_VENV=1
WITH_APT=1
WITH_I2C=1
WITH_START=1

usage() {
    cat <<'EOF'
Usage: install.sh [OPTIONS]

Install or upgrade the kiosk scanning cart (run as root, from the cloned repository).

Options:
  --uninstall   stop and remove the program, units and udev rule; keep the scans
                (/var/lib/kiosk), /etc/kiosk/kiosk.toml and the kiosk user
  --purge       with --uninstall: also delete the scans, /etc/kiosk and the user
  --root DIR    install every file under DIR instead of /; runs no package
                manager, systemctl, udevadm or useradd (for CI and image builds)
  --no-venv     do not create/refresh the virtual environment in /opt/kiosk/venv
  --no-apt      do not install Debian packages
  --no-i2c      do not enable I²C
  --no-start    install and enable, but do not (re)start the service
  -h, --help    show this help

Environment: PYTHON (interpreter for the venv, default python3),
KIOSK_PIP_ARGS (extra "pip install" arguments).
EOF
}

say() { printf 'kiosk-install: %s\n' "$*"; }
warn() { printf 'kiosk-install: warning: %s\n' "$*" >&2; }
die() {
    printf 'kiosk-install: error: %s\n' "$*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case $1 in
    --uninstall) MODE=uninstall ;;
    --purge) PURGE=1 ;;
    --root)
        [ $# -ge 2 ] || die "--root needs a directory"
        ROOT=$2
        shift
        ;;
    --root=*) ROOT=${1#--root=} ;;
    --no-venv) WITH_VENV=0 ;;
    --no-apt) WITH_APT=0 ;;
    --no-i2c) WITH_I2C=0 ;;
    --no-start) WITH_START=0 ;;
    -h | --help)
        usage
        exit 0
        ;;
    *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
done

if [ "$PURGE" = 1 ] && [ "$MODE" != uninstall ]; then
    die "--purge only goes with --uninstall"
fi

# SYSTEM=1: a real installation; SYSTEM=0: files only, under $ROOT.
if [ -n "$ROOT" ]; then
    SYSTEM=0
    mkdir -p -- "$ROOT"
    ROOT=$(cd -- "$ROOT" && pwd)
    [ "$ROOT" != / ] || die "--root / is a real installation: drop --root"
else
    SYSTEM=1
    [ "$(id -u)" -eq 0 ] || die "run as root: sudo $0 $ARGS"
fi

OPT=$ROOT/opt/kiosk
VENV=$OPT/venv
ETC=$ROOT/etc/kiosk
STATE=$ROOT/var/lib/kiosk
UNITS=$ROOT/etc/systemd/system
UDEV=$ROOT/etc/udev/rules.d
BIN=$ROOT/usr/local/bin
UNIT_FILES=(kiosk.service kiosk-sync.service kiosk-sync.timer)
RULES=99-kiosk-scanners.rules

# Run a system command, or (with --root) only say what a real install would run.
sys() {
    if [ "$SYSTEM" = 1 ]; then
        "$@"
    else
        say "skipped (--root): $*"
    fi
}

# Ownership: applied when we may (root) and the user exists; with --root in CI
# the kiosk user usually does not exist, and modes alone are installed.
owner_known() { [ "$(id -u)" -eq 0 ] && getent passwd "$1" >/dev/null 2>&1; }

set_owner() { # OWNER PATH
    local user=$1 path=$2
    if [ "$user" = root ]; then
        if [ "$(id -u)" -eq 0 ]; then chown root:root -- "$path"; fi
    elif owner_known "$user"; then
        chown "$user:$user" -- "$path"
    fi
}

put_dir() { # PATH MODE OWNER
    mkdir -p -- "$1"
    chmod "$2" -- "$1"
    set_owner "$3" "$1"
}

# Copy SRC to DST with MODE/OWNER, saying whether anything changed.
put_file() { # SRC DST MODE OWNER
    local src=$1 dst=$2 mode=$3 user=$4
    mkdir -p -- "$(dirname -- "$dst")"
    if [ -f "$dst" ] && cmp -s -- "$src" "$dst"; then
        :
    else
        local tmp
        tmp=$(mktemp -- "$dst.XXXXXX")
        cat -- "$src" >"$tmp"
        mv -f -- "$tmp" "$dst"
        say "installed ${dst#"$ROOT"}"
    fi
    chmod "$mode" -- "$dst"
    set_owner "$user" "$dst"
}

check_source() {
    local f
    for f in pyproject.toml config/kiosk.toml "systemd/$RULES" "${UNIT_FILES[@]/#/systemd/}"; do
        [ -f "$SRC/$f" ] || die "$SRC/$f is missing: run install.sh from a complete clone"
    done
}

install_packages() {
    if [ "$WITH_APT" = 0 ]; then
        say "skipped (--no-apt): apt-get install ${APT_PACKAGES[*]} ${APT_OPTIONAL[*]}"
        return
    fi
    if [ "$SYSTEM" = 0 ]; then
        sys apt-get install --no-install-recommends "${APT_PACKAGES[@]}" "${APT_OPTIONAL[@]}"
        return
    fi
    say "installing Debian packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    local pkgs=("${APT_PACKAGES[@]}") p
    for p in "${APT_OPTIONAL[@]}"; do
        if apt-cache show "$p" >/dev/null 2>&1; then
            pkgs+=("$p")
        else
            warn "package $p is not available (not Raspberry Pi OS?); GPIO may not work"
        fi
    done
    apt-get install -y -q --no-install-recommends "${pkgs[@]}"
}

create_user() {
    if [ "$SYSTEM" = 0 ]; then
        sys useradd --system --user-group --home-dir /var/lib/kiosk --no-create-home \
            --shell /usr/sbin/nologin "$USER_NAME"
        sys usermod -aG "$(
            IFS=,
            echo "${GROUPS_WANTED[*]}"
        )" "$USER_NAME"
        return
    fi
    if ! getent passwd "$USER_NAME" >/dev/null; then
        say "creating system user $USER_NAME"
        useradd --system --user-group --home-dir /var/lib/kiosk --no-create-home \
            --shell /usr/sbin/nologin --comment "kiosk scanning cart" "$USER_NAME"
    fi
    local g
    for g in "${GROUPS_WANTED[@]}"; do
        if ! getent group "$g" >/dev/null; then
            # Raspberry Pi OS has them all; elsewhere make the group so the udev
            # rule and the doctor have something to refer to.
            groupadd --system "$g"
            say "created group $g (not present on this system)"
        fi
        if ! id -nG "$USER_NAME" | tr ' ' '\n' | grep -qx "$g"; then
            usermod -aG "$g" "$USER_NAME"
            say "added $USER_NAME to group $g"
        fi
    done
}

install_venv() {
    if [ "$WITH_VENV" = 0 ]; then
        say "skipped (--no-venv): virtual environment in ${VENV#"$ROOT"}"
        return
    fi
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        die "$PYTHON is older than 3.11 (Raspberry Pi OS Bookworm has 3.11)"
    put_dir "$OPT" 0755 root
    if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c '' 2>/dev/null; then
        warn "the virtual environment is broken (Python upgraded?); recreating it"
        rm -rf -- "$VENV"
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating the virtual environment ${VENV#"$ROOT"}"
        # System site packages: use Debian's evdev, lgpio, smbus2, Pillow builds.
        "$PYTHON" -m venv --system-site-packages "$VENV"
    fi
    say "installing kiosk into ${VENV#"$ROOT"}"
    # Build from a clean copy: pip builds in the source tree otherwise, leaving
    # root-owned build/ and *.egg-info in the technician's clone.
    local build f
    build=$(mktemp -d)
    for f in pyproject.toml README.md LICENSE kiosk; do
        if [ -e "$SRC/$f" ]; then cp -R -- "$SRC/$f" "$build/"; fi
    done
    find "$build" -name __pycache__ -type d -prune -exec rm -rf {} +
    # shellcheck disable=SC2086  # PIP_ARGS is a list of words by design
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        --upgrade $PIP_ARGS "$build" || {
        rm -rf -- "$build"
        die "pip could not install kiosk into $VENV (see above)"
    }
    rm -rf -- "$build"
    "$VENV/bin/kiosk" --version >/dev/null 2>&1 || [ -n "$PIP_ARGS" ] ||
        die "the installed kiosk does not start: $VENV/bin/kiosk --version"
}

install_wrapper() {
    local tmp
    tmp=$(mktemp)
    cat >"$tmp" <<'EOF'
#!/bin/sh
# Installed by kiosk's install.sh. Runs kiosk commands as the service user, so
# files in /var/lib/kiosk keep the owner the daemon needs (root-owned files
# there would stop the service from saving scans).
set -eu
KIOSK=/opt/kiosk/venv/bin/kiosk
if [ "$(id -u)" -eq 0 ] && [ "${KIOSK_AS_ROOT:-0}" != 1 ]; then
    exec runuser -u kiosk -- "$KIOSK" "$@"
fi
exec "$KIOSK" "$@"
EOF
    put_file "$tmp" "$BIN/kiosk" 0755 root
    rm -f -- "$tmp"
}

install_config() {
    put_dir "$ETC" 0755 root
    put_file "$SRC/config/kiosk.toml" "$ETC/kiosk.toml.example" 0644 root
    if [ ! -e "$ETC/kiosk.toml" ]; then
        put_file "$SRC/config/kiosk.toml" "$ETC/kiosk.toml" 0644 root
    else
        say "kept ${ETC#"$ROOT"}/kiosk.toml (compare with kiosk.toml.example after upgrades)"
    fi
    local cred=$ETC/credentials.toml
    if [ ! -e "$cred" ]; then
        (
            umask 077
            cat >"$cred" <<'EOF'
# SLiMS login used by the kiosk to sync scans. Readable only by the kiosk
# service user: keep it mode 0600, owner kiosk (install.sh re-applies both).
# Edit with: sudoedit /etc/kiosk/credentials.toml
# username = "stocktake"
# password = "..."
EOF
            # The cart page's token ([web] in kiosk.toml turns the page on).
            printf '\n[web]\ntoken = "%s"\n' "$(head -c 12 /dev/urandom | base64 | tr -d '/+=')" >>"$cred"
        )
        say "created ${cred#"$ROOT"} (fill in the SLiMS user and password)"
    fi
    chmod 0600 -- "$cred"
    set_owner "$USER_NAME" "$cred"
}

install_state() {
    put_dir "$STATE" 0750 "$USER_NAME"
}

install_units() {
    local u
    for u in "${UNIT_FILES[@]}"; do
        put_file "$SRC/systemd/$u" "$UNITS/$u" 0644 root
    done
    put_file "$SRC/systemd/$RULES" "$UDEV/$RULES" 0644 root
    sys udevadm control --reload
    sys udevadm trigger --subsystem-match=input --action=change
    sys systemctl daemon-reload
    sys systemctl enable kiosk.service kiosk-sync.timer
    if [ "$WITH_START" = 1 ]; then
        sys systemctl restart kiosk.service
        sys systemctl start kiosk-sync.timer
    fi
}

enable_i2c() {
    [ "$WITH_I2C" = 1 ] || return 0
    if [ "$SYSTEM" = 1 ] && command -v raspi-config >/dev/null; then
        # raspi-config answers 0 when I²C is already on.
        if [ "$(raspi-config nonint get_i2c)" != 0 ]; then
            raspi-config nonint do_i2c 0
            say "enabled I²C; reboot if /dev/i2c-1 does not appear"
        fi
    else
        say "I²C: enable it with 'sudo raspi-config nonint do_i2c 0' (or add"
        say "  dtparam=i2c_arm=on to /boot/firmware/config.txt and i2c-dev to /etc/modules),"
        say "  then reboot; for an SPI display use 'sudo raspi-config nonint do_spi 0'"
    fi
}

uninstall() {
    local u
    if [ "$SYSTEM" = 1 ]; then
        systemctl disable --now kiosk-sync.timer kiosk.service 2>/dev/null || true
        systemctl stop kiosk-sync.service 2>/dev/null || true
    else
        sys systemctl disable --now kiosk-sync.timer kiosk.service
    fi
    for u in "${UNIT_FILES[@]}"; do
        rm -f -- "$UNITS/$u"
    done
    rm -f -- "$UDEV/$RULES" "$BIN/kiosk" "$ETC/kiosk.toml.example"
    # The password does not outlive the program.
    rm -f -- "$ETC/credentials.toml"
    rm -rf -- "$OPT"
    sys systemctl daemon-reload
    sys udevadm control --reload
    if [ "$PURGE" = 1 ]; then
        rm -rf -- "$STATE" "$ETC"
        if [ "$SYSTEM" = 1 ] && getent passwd "$USER_NAME" >/dev/null; then
            userdel "$USER_NAME" || warn "could not remove user $USER_NAME"
        fi
        say "purged: scans, configuration and the $USER_NAME user are gone"
    else
        rmdir -- "$ETC" 2>/dev/null || true
        say "removed; kept ${STATE#"$ROOT"} (scans) and ${ETC#"$ROOT"}/kiosk.toml if present"
    fi
}

main() {
    if [ "$MODE" = uninstall ]; then
        uninstall
        return
    fi
    check_source
    if [ "$SYSTEM" = 1 ] && ! grep -qs '^VERSION_CODENAME=bookworm' /etc/os-release; then
        warn "this is not Debian/Raspberry Pi OS Bookworm; continuing anyway"
    fi
    install_packages
    create_user
    install_venv
    install_wrapper
    install_config
    install_state
    install_units
    enable_i2c
    say "done. Check the cart with: sudo kiosk doctor"
    if [ "$SYSTEM" = 1 ] && [ "$WITH_START" = 1 ] && [ -x "$VENV/bin/kiosk" ]; then
        "$BIN/kiosk" doctor || warn "kiosk doctor found problems (see above)"
    fi
}

main
