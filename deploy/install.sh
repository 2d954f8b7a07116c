#!/usr/bin/env bash
# Install (or re-install) gaitkiosk on Raspberry Pi OS Bookworm (Pi 4 / Pi 5) from a release bundle.
#
#   sudo bash install.sh gaitkiosk-X.Y.Z.tar
#
# What it does (docs/install.md, "Setting up a unit"): system packages; the gaitkiosk user and its
# groups; /opt/gaitkiosk/versions/X.Y.Z (a virtual environment installed offline from the bundle's
# wheels) and the `current` link; the systemd unit (the kiosk on the console through KMS/DRM, no
# desktop), the journald limits, the udev rule, the config and the trusted release key; then the
# sensors found and a first self-test. Run it again at any time: a second run changes nothing.
# When a version is installed already, a newer bundle goes through `gaitkiosk update apply`
# (signature, backup, switch, health check, rollback).
#
# Options:
#   --root DIR   install below DIR instead of / (tests; preparing an SD card's root file system)
#
# What changes the running system, and the seams that replace it (tests, docs/install.md):
#   apt-get      GAITKIOSK_APT_GET   (default apt-get; tests: true)
#   systemctl    GAITKIOSK_SYSTEMCTL for daemon-reload / restart of running services (default systemctl;
#                skipped below --root); `enable` and `set-default` are real, with --root=DIR below a root
#   udevadm      GAITKIOSK_UDEVADM   (default udevadm; skipped below --root)
#   useradd, groupadd, usermod: real, with --root DIR below a root (they edit DIR/etc/passwd, group)
#   pip          installs offline from the bundle; GAITKIOSK_TEST_SITE (tests only): --no-deps, and
#                the new venv sees that site-packages directory
set -euo pipefail

say() { printf '%s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

ROOT=/
BUNDLE=
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=${2:?--root needs a directory}; shift 2 ;;
    --root=*) ROOT=${1#--root=}; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    -*) die "unknown option $1 (--help lists them)" ;;
    *) [ -z "$BUNDLE" ] || die "one bundle only"; BUNDLE=$1; shift ;;
  esac
done
[ -n "$BUNDLE" ] || die "give the release bundle: sudo bash install.sh gaitkiosk-X.Y.Z.tar"
[ -f "$BUNDLE" ] || die "$BUNDLE: no such file"
[ "$(id -u)" = 0 ] || die "run it as root (sudo bash install.sh $BUNDLE)"
BUNDLE=$(readlink -f "$BUNDLE")
ROOT=$(readlink -f "$ROOT")
R=${ROOT%/}                    # prefix for paths: "" on a unit
APT_GET=${GAITKIOSK_APT_GET:-apt-get}
SYSTEMCTL=${GAITKIOSK_SYSTEMCTL:-systemctl}
UDEVADM=${GAITKIOSK_UDEVADM:-udevadm}
PYTHON=${GAITKIOSK_PYTHON:-python3}
below=no; [ "$ROOT" = / ] || below=yes
rootopt=(); [ $below = no ] || rootopt=(--root "$ROOT")
USER_NAME=gaitkiosk
GROUPS_WANTED=(dialout video render input gpio)
CHANGED=()                     # what this run changed, for the summary (empty: nothing)
changed() { CHANGED+=("$1"); say "  changed: $1"; }

TMP=$(mktemp -d /tmp/gaitkiosk-install.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
tar -xf "$BUNDLE" -C "$TMP" || die "$BUNDLE is not a whole release bundle (copy it again)"
[ -f "$TMP/manifest.json" ] || die "$BUNDLE: no manifest.json: not a gaitkiosk release bundle"
VERSION=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$TMP/manifest.json")
say "gaitkiosk $VERSION: installing below $ROOT"

say "== system packages"
# python3-venv: the versioned environments; libsdl2/libgbm/libegl/libdrm: the kiosk on the console
# through KMS/DRM (no desktop); sqlite3: the technician's look at the database.
"$APT_GET" install -y -q --no-install-recommends python3 python3-venv libsdl2-2.0-0 libgbm1 libegl1 libdrm2 \
  fonts-dejavu-core sqlite3 ca-certificates >/dev/null || die "apt-get install failed (network? run apt-get update)"

say "== the $USER_NAME user"
touch "$R/etc/group" "$R/etc/passwd" 2>/dev/null || true
for g in "${GROUPS_WANTED[@]}"; do
  if ! grep -q "^$g:" "$R/etc/group"; then
    groupadd "${rootopt[@]}" --system "$g"; changed "group $g"
  fi
done
if ! grep -q "^$USER_NAME:" "$R/etc/passwd"; then
  useradd "${rootopt[@]}" --system --user-group --home-dir /var/lib/gaitkiosk --no-create-home \
    --shell /usr/sbin/nologin --comment "gaitkiosk kiosk" "$USER_NAME"
  changed "user $USER_NAME"
fi
for g in "${GROUPS_WANTED[@]}"; do
  if ! grep -Eq "^$g:[^:]*:[^:]*:(.*,)?$USER_NAME(,|\$)" "$R/etc/group"; then
    usermod "${rootopt[@]}" -a -G "$g" "$USER_NAME"; changed "$USER_NAME in group $g"
  fi
done
uid=$(awk -F: -v u=$USER_NAME '$1==u {print $3}' "$R/etc/passwd")
gid=$(awk -F: -v u=$USER_NAME '$1==u {print $4}' "$R/etc/passwd")

say "== folders"
mkdir_owned() {  # DIR MODE OWNER
  if [ ! -d "$1" ]; then install -d -m "$2" "$1"; changed "$1"; fi
  if [ "$(stat -c '%a %u:%g' "$1")" != "${2#0} $3" ]; then chmod "$2" "$1"; chown "$3" "$1"; changed "$1 mode/owner"; fi
}
mkdir_owned "$R/var/lib/gaitkiosk" 0700 "$uid:$gid"
mkdir_owned "$R/opt/gaitkiosk" 0755 0:0
mkdir_owned "$R/opt/gaitkiosk/versions" 0755 0:0
mkdir_owned "$R/etc/gaitkiosk" 0755 0:0
mkdir_owned "$R/etc/gaitkiosk/keys" 0755 0:0

say "== system files"
put() {  # SRC DEST MODE: write DEST when it differs from SRC
  if ! cmp -s "$1" "$2"; then install -D -m "$3" "$1" "$2"; changed "$2"; fi
}
put_once() {  # SRC DEST MODE: write DEST only when absent (a technician edits it: never overwritten)
  if [ ! -e "$2" ]; then install -D -m "$3" "$1" "$2"; changed "$2"; fi
}
units_changed=no
for unit in "$TMP"/deploy/*.service "$TMP"/deploy/*.timer; do
  [ -e "$unit" ] || continue
  before=${#CHANGED[@]}
  put "$unit" "$R/etc/systemd/system/$(basename "$unit")" 0644
  [ ${#CHANGED[@]} = "$before" ] || units_changed=yes
done
before=${#CHANGED[@]}
put "$TMP/deploy/journald-gaitkiosk.conf" "$R/etc/systemd/journald.conf.d/gaitkiosk.conf" 0644
journald_changed=no; [ ${#CHANGED[@]} = "$before" ] || journald_changed=yes
before=${#CHANGED[@]}
put_once "$TMP/deploy/99-gaitkiosk.rules" "$R/etc/udev/rules.d/99-gaitkiosk.rules" 0644
udev_changed=no; [ ${#CHANGED[@]} = "$before" ] || udev_changed=yes
# The release key(s) this unit trusts: from the first bundle installed, never replaced by a later
# bundle (a bundle cannot bring the key that vouches for it). docs/install.md, "Release keys".
for key in "$TMP"/deploy/keys/*.pub; do
  [ -e "$key" ] && put_once "$key" "$R/etc/gaitkiosk/keys/$(basename "$key")" 0644
done
cat > "$TMP/config.toml" <<'TOML'
# gaitkiosk on this unit (docs/configuration.md lists every key). Written once by install.sh;
# your changes are kept when it runs again.
[kiosk]
data_dir = "/var/lib/gaitkiosk"

[devices]
# The names the udev rule gives this unit's sensors (docs/install.md, "Sensors").
mat = "/dev/gaitkiosk/mat"
insoles = ["/dev/gaitkiosk/insole-left", "/dev/gaitkiosk/insole-right"]

[ui]
fullscreen = true
TOML
put_once "$TMP/config.toml" "$R/etc/gaitkiosk/config.toml" 0644

say "== gaitkiosk $VERSION"
current=$(readlink "$R/opt/gaitkiosk/current" 2>/dev/null || true)
vdir="$R/opt/gaitkiosk/versions/$VERSION"
if [ "$current" = "versions/$VERSION" ] && [ -f "$vdir/.gaitkiosk-complete" ]; then
  say "  $VERSION is installed and current"
elif [ -n "$current" ] && [ -x "$R/opt/gaitkiosk/current/bin/gaitkiosk" ]; then
  # A version runs already: the updater does it (signature, backup, switch, health, rollback).
  "$R/opt/gaitkiosk/current/bin/gaitkiosk" update apply "$BUNDLE" --root "$ROOT"
  changed "version $VERSION (update from ${current#versions/})"
else
  # Built in place (a venv's scripts name its own path); the complete mark, written last, makes it a version.
  rm -rf "$vdir"
  "$PYTHON" -m venv "$vdir"
  pipx=(--quiet --no-index --disable-pip-version-check --find-links "$TMP/wheels")
  if [ -n "${GAITKIOSK_TEST_SITE:-}" ]; then
    pipx+=(--no-deps)
    echo "$GAITKIOSK_TEST_SITE" > "$(echo "$vdir"/lib/python3*/site-packages)/gaitkiosk-test-site.pth"
  fi
  "$vdir/bin/python" -m pip install "${pipx[@]}" "gaitkiosk==$VERSION" || { rm -rf "$vdir"; die "pip could not install gaitkiosk $VERSION from the bundle"; }
  # The signature, with the key(s) installed above, before this version may become current.
  "$vdir/bin/gaitkiosk" update check "$BUNDLE" --root "$ROOT" || { rm -rf "$vdir"; die "the bundle was refused"; }
  mkdir -p "$vdir/deploy" && cp -a "$TMP/deploy/." "$vdir/deploy/"
  echo "$VERSION" > "$vdir/.gaitkiosk-complete"
  ln -sfn "versions/$VERSION" "$R/opt/gaitkiosk/current.new"
  mv -T "$R/opt/gaitkiosk/current.new" "$R/opt/gaitkiosk/current"
  changed "version $VERSION"
fi
GK="$R/opt/gaitkiosk/current/bin/gaitkiosk"
# `gaitkiosk` on the technician's PATH: always the current version's.
if [ "$(readlink "$R/usr/local/bin/gaitkiosk" 2>/dev/null)" != /opt/gaitkiosk/current/bin/gaitkiosk ]; then
  mkdir -p "$R/usr/local/bin"
  ln -sfn /opt/gaitkiosk/current/bin/gaitkiosk "$R/usr/local/bin/gaitkiosk"; changed "/usr/local/bin/gaitkiosk"
fi

say "== services"
# The kiosk, and the boot-time recovery of an update a power cut interrupted (runs before it).
ENABLE=(gaitkiosk.service gaitkiosk-recover.service)
kms="$R/boot/firmware/config.txt"
if [ -f "$kms" ] && ! grep -Eq '^dtoverlay=vc4-(f)?kms-v3d' "$kms"; then
  say "  WARNING: $kms has no dtoverlay=vc4-kms-v3d: the kiosk needs the KMS display driver (docs/install.md)"
fi
if [ $below = yes ]; then
  # Offline, on the files below the root only (systemctl --root): harmless, so real.
  for unit in "${ENABLE[@]}"; do
    [ -L "$R/etc/systemd/system/multi-user.target.wants/$unit" ] || {
      systemctl --root="$ROOT" --quiet enable "$unit"; changed "enabled $unit"; }
  done
  [ "$(readlink "$R/etc/systemd/system/default.target" 2>/dev/null)" = /lib/systemd/system/multi-user.target ] || {
    ln -sfn /lib/systemd/system/multi-user.target "$R/etc/systemd/system/default.target"; changed "boot to the console"; }
else
  [ $units_changed = no ] || "$SYSTEMCTL" daemon-reload
  for unit in "${ENABLE[@]}"; do
    "$SYSTEMCTL" is-enabled --quiet "$unit" || { "$SYSTEMCTL" enable "$unit"; changed "enabled $unit"; }
  done
  # The console, no desktop: the kiosk draws on KMS/DRM itself.
  [ "$("$SYSTEMCTL" get-default)" = multi-user.target ] || { "$SYSTEMCTL" set-default multi-user.target; changed "boot to the console"; }
  [ $journald_changed = no ] || "$SYSTEMCTL" restart systemd-journald
  if [ $udev_changed = yes ]; then "$UDEVADM" control --reload; "$UDEVADM" trigger --subsystem-match=tty; fi
fi

say "== the sensors found"
"$GK" devices --config "$R/etc/gaitkiosk/config.toml" || say "  (no sensor answered: see docs/install.md, 'Sensors')"

say "== self-test"
if [ $below = yes ]; then
  "$GK" selftest --sensors --config "$R/etc/gaitkiosk/config.toml" --data-dir "$R/var/lib/gaitkiosk"
else
  runuser -u "$USER_NAME" -- env HOME=/var/lib/gaitkiosk "$R/opt/gaitkiosk/current/bin/python" -m gaitkiosk.mplcache >/dev/null
  runuser -u "$USER_NAME" -- "$GK" selftest --sensors
fi

if [ ${#CHANGED[@]} = 0 ]; then
  say "gaitkiosk $VERSION: installed; nothing changed"
else
  if [ $below = no ] && "$SYSTEMCTL" is-active --quiet gaitkiosk.service; then "$SYSTEMCTL" restart gaitkiosk.service; fi
  say "gaitkiosk $VERSION: installed (${#CHANGED[@]} change(s)). Reboot, or: sudo systemctl start gaitkiosk"
fi
