#!/bin/sh
# --token-command for OpenAuth: a fresh family for EKSO_CONFORMANCE_CLIENT_ID by the
# authorization-code flow a person does in a browser — start at /authorize with the code provider,
# enter an e-mail address (EKSO_CONFORMANCE_USER@example.test), read the one-time code from the
# mailbox (EKSO_OPENAUTH_MAILBOX, where the launcher's code sender delivers), enter it, and
# exchange the authorization code at /token. OpenAuth knows no Ekso client markers: Cli and Web
# families are ordinary families.
set -eu
base=${EKSO_CONFORMANCE_BASE_URL:?}
client=${EKSO_CONFORMANCE_CLIENT_ID:?}
mailbox=${EKSO_OPENAUTH_MAILBOX:?the launcher prints EKSO_OPENAUTH_MAILBOX=...}
email="${EKSO_CONFORMANCE_USER:-admin}@example.test"
redirect=http://127.0.0.1/callback
jar=$(mktemp)
trap 'rm -f "$jar"' EXIT
web() { curl -sS --fail-with-body -c "$jar" -b "$jar" "$@"; }

rm -f "$mailbox/$(printf '%s' "$email" | sed 's/@/%40/')"
web -o /dev/null "$base/authorize?provider=code&response_type=code&client_id=$client&redirect_uri=$redirect"
web -o /dev/null "$base/code/authorize"
web -o /dev/null "$base/code/authorize" -d action=request --data-urlencode "email=$email"
code=$(cat "$mailbox/$(printf '%s' "$email" | sed 's/@/%40/')")
location=$(web -o /dev/null -w '%{redirect_url}' "$base/code/authorize" -d action=verify -d "code=$code")
auth_code=$(printf '%s' "$location" | sed -n 's/.*[?&]code=\([^&]*\).*/\1/p')
[ -n "$auth_code" ] || { echo "token-command.sh: no authorization code in the redirect ($location)" >&2; exit 1; }
tokens=$(curl -sS --fail-with-body "$base/token" -d grant_type=authorization_code --data-urlencode "code=$auth_code" \
  --data-urlencode "redirect_uri=$redirect" --data-urlencode "client_id=$client")
# OpenAuth's token responses carry no token_type; the token-command output format asks for one
# (they are bearer tokens), so it is added here. The harness judges the refresh responses itself.
case $tokens in
  *'"token_type"'*) ;;
  *) tokens=$(printf '%s' "$tokens" | sed 's/^{/{"token_type":"Bearer",/') ;;
esac
printf '%s\n' "$tokens"
