#!/usr/bin/env bash
# Install an enrolled robot on a Raspberry Pi: its config, password and CA
# (the bundle that `orchestrator enroll` made), the robot binary and the
# systemd unit; then start the robot. Run as root, on the Pi:
#
#   sudo ./install-robot.sh [--binary PATH] [--root DIR] [--no-start] [BUNDLE]
#
#   BUNDLE        the bundle: its directory, or the .tar.gz enroll wrote
#                 (default: the directory this script is in, as it comes
#                 inside a bundle)
#   --binary P    the robot binary to install in /usr/local/bin (default:
#                 BUNDLE/robot if there is one, else keep the installed one)
#   --root DIR    install into DIR instead of / (a Pi's SD card mounted on
#                 the laptop, say): the user is added with useradd --root
#                 and the unit enabled with systemctl --root, to start at
#                 the next boot
#   --no-start    install and enable, but do not start the robot now
#
# It makes the system user `robot` (home /var/lib/collaborate, no login)
# when there is none, installs /etc/collaborate/{robot.yaml,password,ca.crt}
# readable by root and group robot only, the outbox directory
# /var/lib/collaborate, /usr/local/bin/robot and
# /etc/systemd/system/robot.service, and enables the unit. Running it again
# with a new bundle replaces the files and restarts the robot.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=/
binary=""
start=1
bundle=""
die() { echo "install-robot: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case "$1" in
	--binary) [ $# -ge 2 ] || die "--binary needs a path"; binary=$2; shift 2 ;;
	--root) [ $# -ge 2 ] || die "--root needs a directory"; root=$2; shift 2 ;;
	--no-start) start=0; shift ;;
	-h | --help) usage; exit 0 ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) [ -z "$bundle" ] || die "one bundle at a time (got $bundle and $1)"; bundle=$1; shift ;;
	esac
done
[ "$(id -u)" = 0 ] || die "run as root: sudo $0 $*"
[ -d "$root" ] || die "--root $root is not a directory"
root=$(cd "$root" && pwd)
[ -n "$bundle" ] || bundle=$here

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -f "$bundle" ]; then
	tar -xzf "$bundle" -C "$tmp" || die "$bundle is not a bundle (.tar.gz) from orchestrator enroll"
	found=$(find "$tmp" -mindepth 1 -maxdepth 2 -name robot.yaml -printf '%h\n' | head -n 1)
	[ -n "$found" ] || die "$bundle holds no robot.yaml"
	bundle=$found
fi
[ -d "$bundle" ] || die "no bundle at $bundle"
for f in robot.yaml password; do
	[ -s "$bundle/$f" ] || die "$bundle/$f is missing: is this a bundle from orchestrator enroll?"
done
id=$(sed -n 's/^id: *"\{0,1\}\([a-z0-9-]*\)"\{0,1\}.*$/\1/p' "$bundle/robot.yaml" | head -n 1)
[ -n "$id" ] || die "$bundle/robot.yaml has no id"
tls_ca=$(sed -n 's/^tls_ca: *"\{0,1\}\([^" #]*\)"\{0,1\}.*$/\1/p' "$bundle/robot.yaml" | head -n 1)
if [ -n "$tls_ca" ] && [ ! -s "$bundle/ca.crt" ]; then
	die "robot.yaml names the CA $tls_ca but the bundle has no ca.crt"
fi
unit=$bundle/robot.service
[ -s "$unit" ] || unit=$here/robot.service
[ -s "$unit" ] || die "no robot.service in the bundle or beside this script"
if [ -z "$binary" ] && [ -x "$bundle/robot" ]; then binary=$bundle/robot; fi
if [ -n "$binary" ]; then
	[ -x "$binary" ] || die "--binary $binary is not an executable file"
elif [ ! -x "$root/usr/local/bin/robot" ]; then
	die "no robot binary: build it (go build -tags opencv -o robot ./robot) and give --binary ./robot"
fi

# The robot's system user, in the target system's own user database.
if ! grep -q '^robot:' "$root/etc/passwd"; then
	args=(--system --home-dir /var/lib/collaborate --no-create-home --shell /usr/sbin/nologin --user-group)
	if [ "$root" = / ]; then
		useradd "${args[@]}" robot
	else
		useradd --root "$root" "${args[@]}" robot
	fi
	echo "install-robot: added the system user robot"
fi
uid=$(awk -F: '$1=="robot"{print $3}' "$root/etc/passwd")
gid=$(awk -F: '$1=="robot"{print $4}' "$root/etc/passwd")
[ -n "$uid" ] && [ -n "$gid" ] || die "no uid or gid for user robot in $root/etc/passwd"
for g in gpio video; do
	grep -q "^$g:" "$root/etc/group" || echo "install-robot: warning: no group $g here; the unit's SupplementaryGroups needs it (Raspberry Pi OS has it)" >&2
done

# Numeric owners: the target's user database may not be this system's.
dst=${root%/}
install -d -o 0 -g "$gid" -m 0750 "$dst/etc/collaborate"
install -o 0 -g "$gid" -m 0640 "$bundle/robot.yaml" "$bundle/password" "$dst/etc/collaborate/"
if [ -s "$bundle/ca.crt" ]; then
	install -o 0 -g "$gid" -m 0640 "$bundle/ca.crt" "$dst/etc/collaborate/"
fi
install -d -o "$uid" -g "$gid" -m 0750 "$dst/var/lib/collaborate"
install -d -m 0755 "$dst/usr/local/bin" "$dst/etc/systemd/system"
if [ -n "$binary" ]; then
	install -o 0 -g 0 -m 0755 "$binary" "$dst/usr/local/bin/robot"
fi
install -o 0 -g 0 -m 0644 "$unit" "$dst/etc/systemd/system/robot.service"
echo "install-robot: installed $id: $dst/etc/collaborate/{robot.yaml,password$([ -s "$bundle/ca.crt" ] && echo ,ca.crt)}, $dst/usr/local/bin/robot, $dst/etc/systemd/system/robot.service"

if [ "$root" != / ]; then
	if command -v systemctl >/dev/null; then
		systemctl --root "$root" enable robot.service
	else
		install -d -m 0755 "$dst/etc/systemd/system/multi-user.target.wants"
		ln -sf /etc/systemd/system/robot.service "$dst/etc/systemd/system/multi-user.target.wants/robot.service"
	fi
	echo "install-robot: enabled in $root: the robot starts at that system's next boot"
	exit 0
fi
systemctl daemon-reload
systemctl enable robot.service
if [ "$start" = 1 ]; then
	systemctl restart robot.service
	echo "install-robot: started; follow it with: journalctl -u robot -f"
else
	echo "install-robot: enabled; start it with: sudo systemctl start robot"
fi
