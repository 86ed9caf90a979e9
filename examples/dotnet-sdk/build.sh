#!/usr/bin/env bash
# Builds the example .NET SDK and its conformance adapter with Mono's C# compiler (Debian: mono-mcs):
#   out/Ekso.Sdk.dll       the SDK (library)
#   out/EksoAdapter.exe    the adapter, a console app referencing the SDK; run it with `mono`
# out/ is git-ignored. Exit 3 when mcs is missing (so callers can tell "cannot build" from "broken").
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/out"
if ! command -v mcs >/dev/null 2>&1; then
  echo "build.sh: mcs not found (Debian/Ubuntu: apt-get install mono-mcs libmono-system-net-http4.0-cil)" >&2
  exit 3
fi
mkdir -p "$out"
common=(-nologo -langversion:7 -optimize+ -warnaserror+ -nowarn:1591 -r:System.Net.Http.dll)
mcs "${common[@]}" -target:library -out:"$out/Ekso.Sdk.dll" \
  "$here"/src/Ekso.Sdk/*.cs "$here/shared/Json.cs"
mcs "${common[@]}" -target:exe -out:"$out/EksoAdapter.exe" -r:"$out/Ekso.Sdk.dll" \
  "$here"/src/EksoAdapter/*.cs "$here/shared/Json.cs"
echo "built $out/EksoAdapter.exe"
