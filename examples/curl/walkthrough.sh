#!/usr/bin/env bash
# A tour of the reference backend with curl: device flow, rotation, a replay that revokes the
# family, and an API key minted, used, revoked and refused.
#
#   npx ekso-conformance serve --test-hooks          # in another terminal; it prints the two lines below
#   export EKSO_BASE_URL=http://127.0.0.1:7070 EKSO_ADMIN_API_KEY=ek_live_…
#   examples/curl/walkthrough.sh
#
# (These are throw-away secrets of a loopback test server; the harness itself never prints one.)
set -euo pipefail
B=${EKSO_BASE_URL:?set EKSO_BASE_URL (printed by serve)}
K=${EKSO_ADMIN_API_KEY:?set EKSO_ADMIN_API_KEY (printed by serve)}
json() { python3 -c "import sys, json; print(json.load(sys.stdin)['$1'])"; }
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

say "1. Discovery (RFC 8414)"
curl -s "$B/.well-known/oauth-authorization-server"; echo

say "2. Device flow: authorization, a poll before approval, approval, tokens, a second redemption"
DA=$(curl -s -X POST "$B/device_authorization" -d client_id=ekso-cli); echo "$DA"
DC=$(echo "$DA" | json device_code); UC=$(echo "$DA" | json user_code)
curl -s -X POST "$B/token" -d grant_type=urn:ietf:params:oauth:grant-type:device_code -d device_code="$DC" -d client_id=ekso-cli; echo
curl -s -X POST "$B/__conformance/device/approve" -H 'content-type: application/json' -d "{\"user_code\":\"$UC\",\"decision\":\"approve\",\"user\":\"admin\"}"; echo
sleep 1
T0=$(curl -s -X POST "$B/token" -d grant_type=urn:ietf:params:oauth:grant-type:device_code -d device_code="$DC" -d client_id=ekso-cli); echo "$T0"
curl -s -X POST "$B/token" -d grant_type=urn:ietf:params:oauth:grant-type:device_code -d device_code="$DC" -d client_id=ekso-cli; echo "   <- the device code is spent"
RT0=$(echo "$T0" | json refresh_token); AT0=$(echo "$T0" | json access_token)

say "3. The Cli access token works; its system-field metadata update is refused (marker Cli)"
curl -s -o /dev/null -w 'GET /api/field → %{http_code}\n' -H "authorization: Bearer $AT0" "$B/api/field"
CORE=$(curl -s -H "authorization: Bearer $AT0" "$B/api/field" | python3 -c "import sys, json; print(json.dumps([f for f in json.load(sys.stdin)['typeList'] if f['isCore']][0]))")
curl -s -X PUT "$B/api/field/list" -H "authorization: Bearer $AT0" -H 'content-type: application/json' -H 'X-Ekso-Client: Web' -d "$CORE"; echo "   <- 403 even when claiming Web"

say "4. Rotation: a new access token and a new refresh token"
T1=$(curl -s -X POST "$B/token" -d grant_type=refresh_token -d refresh_token="$RT0" -d client_id=ekso-cli); echo "$T1"
RT1=$(echo "$T1" | json refresh_token)

say "5. Replay of the superseded token: refused, and the whole family is revoked"
curl -s -X POST "$B/token" -d grant_type=refresh_token -d refresh_token="$RT0" -d client_id=ekso-cli; echo "   <- replay"
curl -s -X POST "$B/token" -d grant_type=refresh_token -d refresh_token="$RT1" -d client_id=ekso-cli; echo "   <- the newest token is dead too"

say "6. An API key: minted, used, revoked, refused"
M=$(curl -s -X POST "$B/api/admin/api-key" -H "authorization: Bearer $K" -H 'content-type: application/json' -d '{"name":"curl walkthrough","expiresAt":null}'); echo "$M"
ID=$(echo "$M" | json id); RAW=$(echo "$M" | json rawKey)
curl -s -o /dev/null -w 'use it        → %{http_code}\n' -H "authorization: Bearer $RAW" "$B/api/field"
curl -s -o /dev/null -w 'revoke it     → %{http_code}\n' -X POST -H "authorization: Bearer $K" "$B/api/admin/api-key/$ID/revoke"
curl -s -D - -o /dev/null -H "authorization: Bearer $RAW" "$B/api/field" | grep -iE '^(HTTP|www-authenticate)'
