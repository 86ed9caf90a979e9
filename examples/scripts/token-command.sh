#!/bin/sh
# A --token-command for the reference backend (`ekso-conformance serve --test-hooks`): it logs in
# the way a deployment's test scripts would — here through the backend's test hook — and prints
# one token pair as JSON on stdout (CONTRACT §2).
#
#   ekso-conformance --base-url "$EKSO_BASE_URL" --admin-key "$EKSO_ADMIN_API_KEY" \
#     --user-key "$EKSO_USER_API_KEY" --token-command examples/scripts/token-command.sh
#
# The harness sets EKSO_CONFORMANCE_MARKER (Cli or Web), EKSO_CONFORMANCE_USER (admin or user),
# EKSO_CONFORMANCE_BASE_URL and EKSO_CONFORMANCE_CLIENT_ID. A script that cannot make a kind of
# family exits 3, and the checks needing that kind are skipped: EKSO_EXAMPLE_MARKERS (default
# "Cli Web") says which kinds this one makes — "Cli" plays a script that can only log in a CLI.
set -eu
case " ${EKSO_EXAMPLE_MARKERS:-Cli Web} " in
  *" $EKSO_CONFORMANCE_MARKER "*) ;;
  *) exit 3 ;;
esac
curl --silent --show-error --fail --max-time 20 \
  -X POST "$EKSO_CONFORMANCE_BASE_URL/__conformance/token" \
  -H 'content-type: application/json' \
  -d "{\"marker\": \"$EKSO_CONFORMANCE_MARKER\", \"user\": \"$EKSO_CONFORMANCE_USER\", \"client_id\": \"$EKSO_CONFORMANCE_CLIENT_ID\"}"
echo
