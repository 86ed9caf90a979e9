#!/bin/sh
# --token-command for oidc-provider: a fresh family for EKSO_CONFORMANCE_CLIENT_ID by the device
# flow (the provider has no other way to log in without a browser): device authorization, the
# person's part done by approve.sh (signed in as EKSO_CONFORMANCE_USER), then the token request.
# The provider knows no Ekso client markers: both Cli and Web families are ordinary families.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
base=${EKSO_CONFORMANCE_BASE_URL:?}
client=${EKSO_CONFORMANCE_CLIENT_ID:?}
# A string member of the provider's JSON answer (its codes are URL-safe: no escapes to undo).
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

device=$(curl -sS --fail-with-body "$base/device/auth" -d "client_id=$client" --data-urlencode 'scope=openid offline_access')
device_code=$(printf '%s' "$device" | field device_code)
EKSO_CONFORMANCE_USER_CODE=$(printf '%s' "$device" | field user_code) \
EKSO_CONFORMANCE_DECISION=approve EKSO_CONFORMANCE_APPROVE_LOGIN=${EKSO_CONFORMANCE_USER:-admin} \
  "$here/approve.sh"
curl -sS --fail-with-body "$base/token" -d grant_type=urn:ietf:params:oauth:grant-type:device_code \
  --data-urlencode "device_code=$device_code" --data-urlencode "client_id=$client"
echo
