#!/bin/sh
# SPDX-License-Identifier: MIT
# mkcerts.sh DIR -- the certificates of the TLS tests (daemon/t_tls.c,
# docs/TLS.md), made at test time with the openssl command (OpenSSL 3.0).
#
#   ca.pem, ca.key              the test CA (the one both ends trust)
#   ca2.pem, ca2.key            a second CA that nobody trusts
#   server.pem, server.key      CN=localhost,    SAN DNS:localhost,IP:127.0.0.1
#   client.pem, client.key      CN=nvmsg-client, SAN DNS:localhost,IP:127.0.0.1
#   wrongca.pem, wrongca.key    as server.pem, but signed by ca2
#   expired.pem, expired.key    as server.pem, but valid only in January 2020
#   wrongname.pem, wrongname.key CN=other.example, SAN DNS:other.example
#
# Every leaf is signed by ca (except wrongca), has an EC P-256 key and the
# extended key usages serverAuth and clientAuth: a daemon uses one
# certificate for the links it accepts and the links it dials.
# OpenSSL 3.0's x509 has no -not_before, so the expired certificate is
# signed with `openssl ca -startdate -enddate`.
#
# Quiet on success; on failure it names the command, prints openssl's
# output and exits 1.  Idempotent: every run makes all the files anew.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
command -v openssl >/dev/null 2>&1 || {
	echo "mkcerts: the openssl command is not installed" >&2
	exit 1
}
mkdir -p "$1"
cd "$1"
work=$(mktemp -d mkcerts.XXXXXX)
trap 'rm -rf "$work"' EXIT
log=$work/log

# run CMD... -- run quietly; on failure say what failed and show its output
run() {
	if ! "$@" >"$log" 2>&1; then
		echo "mkcerts: failed: $*" >&2
		cat "$log" >&2
		exit 1
	fi
}

cat >"$work/openssl.cnf" <<CNF
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1
[ leaf_other ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:other.example
[ ca ]
default_ca = ca_expired
[ ca_expired ]
database = $work/index.txt
new_certs_dir = $work
serial = $work/serial
default_md = sha256
policy = any
unique_subject = no
email_in_dn = no
copy_extensions = none
[ any ]
commonName = supplied
CNF
export OPENSSL_CONF="$work/openssl.cnf"
cnf=$work/openssl.cnf

# key NAME -- NAME.key, EC P-256, owner-readable only
key() {
	run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$1.key"
	chmod 600 "$1.key"
}

# ca NAME CN -- a self-signed CA, NAME.pem and NAME.key
ca() {
	key "$1"
	run openssl req -config "$cnf" -new -x509 -key "$1.key" -subj "/CN=$2" \
		-days 3650 -sha256 -extensions v3_ca -set_serial "0x$(serial)" \
		-out "$1.pem"
}

serial() {
	openssl rand -hex 8
}

# csr NAME CN -- a key and a certificate request
csr() {
	key "$1"
	run openssl req -config "$cnf" -new -key "$1.key" -subj "/CN=$2" \
		-out "$work/$1.csr"
}

# leaf NAME CN CA EXT -- NAME.pem for CN signed by CA, extensions EXT
leaf() {
	csr "$1" "$2"
	run openssl x509 -req -in "$work/$1.csr" -CA "$3.pem" -CAkey "$3.key" \
		-set_serial "0x$(serial)" -days 825 -sha256 \
		-extfile "$cnf" -extensions "$4" -out "$1.pem"
}

ca ca "nvmsg test CA"
ca ca2 "nvmsg unrelated CA"
leaf server localhost ca leaf
leaf client nvmsg-client ca leaf
leaf wrongca localhost ca2 leaf
leaf wrongname other.example ca leaf_other

# expired: valid from 1 to 31 January 2020, signed by ca
csr expired localhost
: >"$work/index.txt"
serial >"$work/serial"
run openssl ca -batch -config "$cnf" -notext -cert ca.pem -keyfile ca.key \
	-startdate 20200101000000Z -enddate 20200131000000Z \
	-extfile "$cnf" -extensions leaf -in "$work/expired.csr" \
	-out expired.pem

# a last check that the files say what their names say
run openssl verify -CAfile ca.pem server.pem client.pem wrongname.pem
run openssl verify -CAfile ca2.pem wrongca.pem
if openssl verify -CAfile ca.pem expired.pem >"$log" 2>&1; then
	echo "mkcerts: expired.pem verifies, it should have expired" >&2
	exit 1
fi
