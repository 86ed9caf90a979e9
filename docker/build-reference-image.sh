#!/usr/bin/env bash
# Builds the reference Ekso auth backend as a container image without pulling anything from a
# registry: a FROM-scratch image holding this machine's Node binary with the shared libraries it
# links (ldd), the built dist/ and the production node_modules. The entrypoint runs
#   node dist/cli.js serve --test-hooks --host 127.0.0.1 --port $PORT --rate-limit 0
#
# usage: docker/build-reference-image.sh [TAG]      (default: ekso-conformance-reference:local)
#   then: npx ekso-conformance --image ekso-conformance-reference:local --image-port 7070
#
# The image is labelled with a hash of what went into it; when an image of that tag already has
# the same hash nothing is rebuilt (EKSO_IMAGE_REBUILD=1 forces a build). `docker build` is used
# where it works; otherwise (no builder) the same root filesystem is loaded with `docker import`.
# Prints the tag on stdout as its last line; progress goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
tag=${1:-${EKSO_REFERENCE_IMAGE:-ekso-conformance-reference:local}}
say() { echo "build-reference-image: $*" >&2; }

cd "$root"
command -v docker >/dev/null || { say "no docker command"; exit 3; }
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || { say "no container engine answers (docker version failed)"; exit 3; }
if [ ! -f dist/cli.js ]; then
  say "dist/ missing: npm run build"
  npm run build >&2
fi
[ -d node_modules ] || { say "node_modules missing: run npm ci first"; exit 2; }

node_bin=$(readlink -f "$(command -v node)")
# The shared libraries node links, as ldd resolves them here (and the dynamic loader itself).
mapfile -t libs < <(ldd "$node_bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
# The production dependency closure (optional ones, i.e. testcontainers, are not needed to serve).
mapfile -t modules < <(npm ls --omit=dev --omit=optional --all --parseable 2>/dev/null | grep '/node_modules/' | sed "s#^$root/##" | sort -u)
[ "${#modules[@]}" -gt 0 ] || { say "npm ls found no production dependencies"; exit 2; }

hash=$(
  {
    echo "node $("$node_bin" --version) $(sha256sum "$node_bin" | cut -c1-64)"
    for lib in "${libs[@]}"; do sha256sum "$(readlink -f "$lib")" | cut -c1-64; done
    find dist -type f ! -name '*.map' -print0 | sort -z | xargs -0 sha256sum
    sha256sum package.json package-lock.json docker/Dockerfile docker/entrypoint.mjs
    printf '%s\n' "${modules[@]}"
  } | sha256sum | cut -c1-16
)
if [ "${EKSO_IMAGE_REBUILD:-0}" != 1 ] && [ "$(docker image inspect "$tag" --format '{{ index .Config.Labels "org.ekso.conformance.hash" }}' 2>/dev/null || true)" = "$hash" ]; then
  say "$tag is up to date ($hash)"
  echo "$tag"
  exit 0
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/ekso-image.XXXXXX")
trap 'rm -rf "$stage"' EXIT
rootfs=$stage/rootfs
mkdir -p "$rootfs/usr/local/bin" "$rootfs/app/docker" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
cp "$node_bin" "$rootfs/usr/local/bin/node"
for lib in "${libs[@]}"; do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
cp -r dist package.json "$rootfs/app/"
find "$rootfs/app/dist" -name '*.map' -delete
cp docker/entrypoint.mjs "$rootfs/app/docker/"
for module in "${modules[@]}"; do
  mkdir -p "$rootfs/app/$(dirname "$module")"
  cp -r "$module" "$rootfs/app/$module"
done
cp docker/Dockerfile "$stage/Dockerfile"
say "staged $(du -sh "$rootfs" | cut -f1) (node $("$node_bin" --version), ${#libs[@]} libraries, ${#modules[@]} packages)"

if DOCKER_BUILDKIT=0 docker build --quiet --build-arg "EKSO_IMAGE_HASH=$hash" -t "$tag" "$stage" >"$stage/build.log" 2>&1; then
  say "built $tag with docker build ($hash)"
else
  say "docker build failed ($(tail -n 1 "$stage/build.log")); loading the root filesystem with docker import"
  tar -C "$rootfs" -c . | docker import \
    --change 'ENV PORT=7070 NODE_ENV=production' \
    --change 'WORKDIR /app' \
    --change 'EXPOSE 7070' \
    --change 'ENTRYPOINT ["/usr/local/bin/node", "/app/docker/entrypoint.mjs"]' \
    --change 'LABEL org.ekso.conformance.role=reference-backend' \
    --change "LABEL org.ekso.conformance.hash=$hash" \
    - "$tag" >/dev/null
  say "imported $tag ($hash)"
fi
echo "$tag"
