#!/bin/sh
# --token-command for @node-oauth/oauth2-server: a fresh family for EKSO_CONFORMANCE_CLIENT_ID by
# the password grant (the test user database accepts any user name with the password
# "conformance"), the client authenticating with HTTP Basic as the server requires by default.
# The server knows no Ekso client markers: Cli and Web families are ordinary families.
set -eu
base=${EKSO_CONFORMANCE_BASE_URL:?}
client=${EKSO_CONFORMANCE_CLIENT_ID:?}
curl -sS --fail-with-body "$base/token" -u "$client:conformance-secret" \
  -d grant_type=password --data-urlencode "username=${EKSO_CONFORMANCE_USER:-admin}" -d password=conformance
echo
