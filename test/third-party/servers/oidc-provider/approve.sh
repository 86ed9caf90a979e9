#!/bin/sh
# --device-approve-command for oidc-provider: does what a person does in a browser — opens the
# verification page, enters the user code, confirms the device, signs in through the provider's
# development login form (any login is accepted: EKSO_CONFORMANCE_APPROVE_LOGIN, default admin)
# and grants consent; or aborts when EKSO_CONFORMANCE_DECISION=deny.
set -eu
base=${EKSO_CONFORMANCE_BASE_URL:?}
code=${EKSO_CONFORMANCE_USER_CODE:?}
login=${EKSO_CONFORMANCE_APPROVE_LOGIN:-admin}
jar=$(mktemp)
page=$(mktemp)
trap 'rm -f "$jar" "$page"' EXIT
web() { curl -sS --fail-with-body -L -c "$jar" -b "$jar" -o "$page" -w '%{http_code}' "$@"; }
xsrf() { grep -o 'name="xsrf" value="[^"]*"' "$page" | head -n 1 | sed 's/.*value="//; s/"$//'; }
action() { grep -o 'action="[^"]*/interaction/[^"]*"' "$page" | head -n 1 | sed 's/^action="//; s/"$//'; }

web "$base/device?user_code=$code" >/dev/null             # the page auto-submits the code
web "$base/device" --data-urlencode "xsrf=$(xsrf)" --data-urlencode "user_code=$code" >/dev/null
if [ "${EKSO_CONFORMANCE_DECISION:-approve}" = deny ]; then
  web "$base/device" --data-urlencode "xsrf=$(xsrf)" --data-urlencode "user_code=$code" -d abort=yes >/dev/null
  exit 0
fi
web "$base/device" --data-urlencode "xsrf=$(xsrf)" --data-urlencode "user_code=$code" -d confirm=yes >/dev/null
web "$(action)" -d prompt=login --data-urlencode "login=$login" -d password=conformance >/dev/null
web "$(action)" -d prompt=consent >/dev/null
grep -q 'Sign-in Success' "$page" || { echo "approve.sh: the provider did not confirm the sign-in" >&2; exit 1; }
