#!/bin/sh
# A --device-approve-command for the reference backend (`ekso-conformance serve --test-hooks`):
# the harness runs the device flow itself and calls this once it has a user code; the script does
# what a person would do on the verification page — here through the backend's test hook.
#
#   ekso-conformance --base-url "$EKSO_BASE_URL" --admin-key "$EKSO_ADMIN_API_KEY" \
#     --user-key "$EKSO_USER_API_KEY" --device-approve-command examples/scripts/device-approve.sh
#
# The harness sets EKSO_CONFORMANCE_USER_CODE, EKSO_CONFORMANCE_VERIFICATION_URI[_COMPLETE],
# EKSO_CONFORMANCE_BASE_URL and EKSO_CONFORMANCE_DECISION (approve or deny). Exit 0 once done.
set -eu
curl --silent --show-error --fail --max-time 20 --output /dev/null \
  -X POST "$EKSO_CONFORMANCE_BASE_URL/__conformance/device/approve" \
  -H 'content-type: application/json' \
  -d "{\"user_code\": \"$EKSO_CONFORMANCE_USER_CODE\", \"decision\": \"$EKSO_CONFORMANCE_DECISION\", \"user\": \"admin\"}"
