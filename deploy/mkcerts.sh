#!/usr/bin/env bash
# Make a private CA and the broker's TLS certificate, for MQTT over TLS on
# :8883 between the robots and this laptop. Offline: it only reads this
# machine's own name and addresses (hostname, hostname -I), never contacts
# any address.
#
#   deploy/mkcerts.sh [--out DIR] [--host NAME]... [--ip ADDR]... [--broker-host H]
#                     [--days N] [--force-ca]
#
#   --out DIR        where to write (default deploy/config/tls, which
#                    docker-compose.yml mounts at /config/tls)
#   --host NAME      a DNS name the robots may use (repeatable; default the
#                    output of `hostname`, plus NAME.local for mDNS)
#   --ip ADDR        an IP address the robots may use (repeatable; default
#                    every address of `hostname -I`)
#   --broker-host H  the host written into the robot config lines (default:
#                    the first IP, else the first name)
#   --days N         server certificate lifetime (default 825)
#   --force-ca       make a new CA even if DIR/ca.crt exists (every robot
#                    then needs the new ca.crt)
#
# Writes DIR/ca.key (0600, keep it off the robots), DIR/ca.crt (copy to every
# robot), DIR/server.key (0640) and DIR/server.crt (for the broker), and
# DIR/robot-tls.yaml: the robot config lines that point at the CA.
# Re-running keeps the CA, so robots stay valid, and renews the server
# certificate (e.g. after the laptop's IP changed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/config/tls"
hosts=()
ips=()
broker_host=""
days=825
force_ca=0
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=$2; shift 2 ;;
	--host) hosts+=("$2"); shift 2 ;;
	--ip) ips+=("$2"); shift 2 ;;
	--broker-host) broker_host=$2; shift 2 ;;
	--days) days=$2; shift 2 ;;
	--force-ca) force_ca=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "mkcerts: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
command -v openssl >/dev/null || { echo "mkcerts: openssl not found (apt install openssl)" >&2; exit 1; }
if [ ${#hosts[@]} -eq 0 ]; then
	h=$(hostname)
	hosts=("$h" "$h.local")
fi
if [ ${#ips[@]} -eq 0 ]; then
	# hostname -I lists this machine's addresses; it sends nothing.
	read -r -a ips <<<"$(hostname -I 2>/dev/null || true)"
fi
for ip in "${ips[@]}"; do
	case "$ip" in
	*[!0-9a-fA-F:.]* | "") echo "mkcerts: not an IP address: $ip" >&2; exit 2 ;;
	esac
done
case "$days" in '' | *[!0-9]*) echo "mkcerts: --days must be a number" >&2; exit 2 ;; esac

san="DNS:localhost,IP:127.0.0.1"
for h in "${hosts[@]}"; do san="$san,DNS:$h"; done
for ip in "${ips[@]}"; do
	[ "$ip" = 127.0.0.1 ] || san="$san,IP:$ip"
done
if [ -z "$broker_host" ]; then
	# Prefer an IPv4 address: robots on a Wi-Fi AP may not resolve names.
	for ip in "${ips[@]}"; do
		case "$ip" in *:*) ;; *) broker_host=$ip; break ;; esac
	done
	if [ -z "$broker_host" ] && [ ${#ips[@]} -gt 0 ]; then broker_host="[${ips[0]}]"; fi
	[ -n "$broker_host" ] || broker_host=${hosts[0]}
fi

mkdir -p "$out"
cd "$out"
umask 077
if [ "$force_ca" = 1 ] || [ ! -s ca.crt ] || [ ! -s ca.key ]; then
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
	openssl req -x509 -new -key ca.key -sha256 -days 3650 \
		-subj "/O=collaborate/CN=collaborate fleet CA" \
		-addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" \
		-out ca.crt
	chmod 0644 ca.crt
	echo "mkcerts: new CA $out/ca.crt"
else
	echo "mkcerts: keeping the CA $out/ca.crt (--force-ca for a new one)"
fi

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out server.key 2>/dev/null
openssl req -new -key server.key -subj "/O=collaborate/CN=${hosts[0]}" -out server.csr
cat >server.ext <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san
authorityKeyIdentifier=keyid
EXT
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
	-days "$days" -sha256 -extfile server.ext -out server.crt 2>/dev/null
rm -f server.csr server.ext ca.srl
# The container's user reads server.key through the bind mount as a member
# of your group (docker-compose.yml: group_add); nobody else can.
chmod 0640 server.key
chmod 0644 server.crt
openssl verify -CAfile ca.crt server.crt >/dev/null

cat >robot-tls.yaml <<YAML
# Robot config lines for MQTT over TLS (made by deploy/mkcerts.sh).
# Copy ca.crt to /etc/collaborate/ca.crt on every robot and put these lines
# in /etc/collaborate/robot.yaml. The robot checks that the broker's
# certificate was signed by this CA and names $broker_host.
broker: tls://$broker_host:8883
tls_ca: /etc/collaborate/ca.crt
YAML
chmod 0644 robot-tls.yaml
echo "mkcerts: broker certificate $out/server.crt for $san"
echo "mkcerts: robot config lines ($out/robot-tls.yaml):"
grep -v '^#' robot-tls.yaml | sed 's/^/    /'
