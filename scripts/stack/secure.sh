#!/usr/bin/env bash
# TLS and SASL material for the broker's secured listeners, generated once per
# stack dir with openssl and kept in $SECURE_DIR (shared by every Kafka version):
#
#   ca.pem / ca.key          the stack's own CA (clients trust ca.pem)
#   broker.pem               broker key (PKCS#8) + certificate for 127.0.0.1 / localhost,
#                            a PEM keystore as Kafka reads it (ssl.keystore.type=PEM)
#   client.pem / client.key  a client certificate signed by the CA, for mutual TLS
#   credentials              SCRAM / PLAIN users and random passwords (KEY=VALUE lines): the
#                            stack's own users (super users of the authorizer) and APP_USER, an
#                            ordinary SCRAM principal whose rights tests narrow with ACLs
#
#   secure.sh init      create whatever is missing (no-op when complete)
#   secure.sh scram-args  print the `kafka-storage format --add-scram` arguments
#
# Nothing here is a production secret: the stack listens on 127.0.0.1 only.
set -euo pipefail
# shellcheck source=scripts/stack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# One certificate life for all: long enough that a kept .stack never expires in practice.
DAYS=3650

gen_key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }

# sign NAME CN EXTENSIONS: key + certificate signed by the stack CA.
sign() {
  local name="$1" cn="$2" ext="$3" tmp="$SECURE_DIR/.tmp-$1"
  gen_key "$tmp.key"
  openssl req -new -key "$tmp.key" -subj "/CN=$cn/O=kbak local stack" -out "$tmp.csr" 2>/dev/null
  printf '%s\n' "$ext" >"$tmp.ext"
  openssl x509 -req -in "$tmp.csr" -CA "$SECURE_DIR/ca.pem" -CAkey "$SECURE_DIR/ca.key" -CAcreateserial \
    -days "$DAYS" -sha256 -extfile "$tmp.ext" -out "$tmp.crt" 2>/dev/null
  mv "$tmp.key" "$SECURE_DIR/$name.key"
  mv "$tmp.crt" "$SECURE_DIR/$name.crt"
  rm -f "$tmp.csr" "$tmp.ext"
}

init() {
  command -v openssl >/dev/null 2>&1 || stack_die "openssl is needed to create the secured listener's certificates; install it (apt-get install openssl)"
  [[ -f "$SECURE_DIR/.complete" ]] && return 0
  stack_msg "creating a CA, broker and client certificates and SASL users in $SECURE_DIR"
  rm -rf "$SECURE_DIR"
  mkdir -p "$SECURE_DIR"
  chmod 700 "$SECURE_DIR"
  gen_key "$SECURE_DIR/ca.key"
  openssl req -x509 -new -key "$SECURE_DIR/ca.key" -subj "/CN=kbak local stack CA" -days "$DAYS" -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$SECURE_DIR/ca.pem" 2>/dev/null
  sign broker localhost "$(printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
    'extendedKeyUsage=serverAuth' "subjectAltName=IP:$STACK_HOST,DNS:localhost")"
  sign client kbak-client "$(printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
    'extendedKeyUsage=clientAuth')"
  cat "$SECURE_DIR/broker.key" "$SECURE_DIR/broker.crt" >"$SECURE_DIR/broker.pem"
  mv "$SECURE_DIR/client.crt" "$SECURE_DIR/client.pem"
  rm -f "$SECURE_DIR/broker.key" "$SECURE_DIR/broker.crt" "$SECURE_DIR/ca.srl"
  # Hex only: the password goes into JAAS and --add-scram syntax unquoted.
  {
    printf 'SCRAM_USER=kbak\n'
    printf 'SCRAM_PASSWORD=%s\n' "$(openssl rand -hex 16)"
    printf 'PLAIN_USER=kbak-plain\n'
    printf 'PLAIN_PASSWORD=%s\n' "$(openssl rand -hex 16)"
    printf 'APP_USER=kbak-app\n'
    printf 'APP_PASSWORD=%s\n' "$(openssl rand -hex 16)"
  } >"$SECURE_DIR/credentials"
  chmod 600 "$SECURE_DIR"/*.key "$SECURE_DIR/broker.pem" "$SECURE_DIR/credentials"
  touch "$SECURE_DIR/.complete"
}

# A stack dir created before the authorizer existed has no APP_USER: add it once.
ensure_app_user() {
  grep -q '^APP_USER=' "$SECURE_DIR/credentials" && return 0
  printf 'APP_USER=kbak-app\nAPP_PASSWORD=%s\n' "$(openssl rand -hex 16)" >>"$SECURE_DIR/credentials"
}

scram_args() {
  # shellcheck source=/dev/null
  source "$SECURE_DIR/credentials"
  local user pass
  for user in SCRAM APP; do
    pass="${user}_PASSWORD"
    user="${user}_USER"
    printf '%s\n' --add-scram "SCRAM-SHA-512=[name=${!user},password=${!pass}]" \
      --add-scram "SCRAM-SHA-256=[name=${!user},password=${!pass}]"
  done
}

case "${1:-}" in
  init) init && ensure_app_user ;;
  scram-args) scram_args ;;
  *) echo "usage: $0 init|scram-args" >&2; exit 2 ;;
esac
