#!/usr/bin/env bash
# Builds Frost's OCI container image offline, `FROM scratch` (no base image is pulled), with
# podman (Debian's), and saves it as an oci-archive that `podman load` accepts, plus a Docker
# manifest.json naming the same blobs for `docker load` (not tried here: no Docker). It holds:
#
#   /usr/local/bin/frost          the binary (stripped)
#   /lib64/ld-linux-x86-64.so.2   its loader, where the binary's ELF header looks for it
#   /usr/lib/x86_64-linux-gnu/    every shared library it needs, libc and libduckdb included
#                                 (the loader's own default search path: no LD_LIBRARY_PATH)
#   /etc/passwd, /etc/group       the non-root user `frost` (65532), which the image runs as
#   /etc/ssl/certs/               the CA bundle, for Snowflake's and the JWKS fetcher's HTTPS
#   /var/task/config/frost.yaml   the config it serves (FROST_CONFIG; mount another over it)
#   /var/task/data/               a small sample database and its prebuilt rollups, writable by
#                                 `frost` so refreshes work; nothing with --no-data
#   /var/task/web/                the dashboard and docs pages, when ./scripts/build-web.sh built them
#
# No shell, no package manager, nothing else. Entrypoint `frost`, command `serve`; it listens on
# 0.0.0.0:$PORT (8080 unless the platform sets PORT; FROST_PORT wins over PORT). Under AWS
# Lambda (AWS_LAMBDA_RUNTIME_API set) the same command answers Lambda events instead: the image
# sets _HANDLER=serve, which `frost` reads as "started by Lambda" (src/app/lambda_command.cpp).
# /var/task is Lambda's task root, so `frost lambda` serves its rollups from a copy in /tmp.
#
# Usage: scripts/build-image.sh [--binary build/src/app/frost] [--config config/frost.yaml]
#          [--out frost-image.tar] [--tag localhost/frost:latest] [--trips 500k | --no-data]
#          [--format oci-archive|docker-archive] [--web DIR | --no-web] [--load] [--keep DIR]
#   --load   also load the image into your own podman store (else only the archive is written;
#            the build itself uses a private, temporary store)
# The packaged config must name its files as ../data/<name>, as config/frost.yaml does.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/bundle.sh

binary=build/src/app/frost
config=config/frost.yaml
out=frost-image.tar
tag=localhost/frost:latest
trips=500k
no_data=0
format=oci-archive
web=.cache/web
load=0
keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --trips) trips=$2; shift 2 ;;
    --no-data) no_data=1; shift ;;
    --format) format=$2; shift 2 ;;
    --web) web=$2; shift 2 ;;
    --no-web) web=""; shift ;;
    --load) load=1; shift ;;
    --keep) keep=$2; shift 2 ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "build-image: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1mbuild-image:\033[0m %s\n' "$*" >&2; }
die() { echo "build-image: $*" >&2; exit 1; }

case "$format" in oci-archive|docker-archive) ;; *) die "--format is oci-archive or docker-archive, not $format" ;; esac
[ -x "$binary" ] || die "$binary is not built: run \`make build\` (or pass --binary)"
[ -f "$config" ] || die "no config at $config"
command -v podman >/dev/null 2>&1 || ./scripts/setup.sh --image
command -v podman >/dev/null 2>&1 || die "podman is not installed (scripts/setup.sh --image installs it)"

case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
case "$binary" in /*) ;; *) binary="$PWD/$binary" ;; esac
mkdir -p "$(dirname "$out")"
work=$(mktemp -d)
store=(--root "$work/store" --runroot "$work/run" --storage-driver vfs)
cleanup() {
  # vfs layers hold files owned by other ids; podman removes its own store.
  podman "${store[@]}" rmi -a -f >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
ctx=$work/context
root=$ctx/rootfs
task=$root/var/task
mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/tmp" "$task/config" "$ctx/data"
chmod 1777 "$root/tmp"

cp "$binary" "$root/usr/local/bin/frost"
command -v strip >/dev/null 2>&1 && strip --strip-unneeded "$root/usr/local/bin/frost"
chmod 755 "$root/usr/local/bin/frost"

# The libraries, the same set as the Lambda zip's lib/ (scripts/lib/bundle.sh). The loader goes
# where the binary names it; the rest into the first directory the loader searches by default,
# so the binary runs as itself with no wrapper (there is no shell to write one in).
bundle_libraries "$binary" "$work/lib" || die "cannot bundle the libraries of $binary"
libdir=$("$work/lib/$BUNDLED_LOADER" --help | awk '/\(system search path\)/ {print $1; exit}')
[ -n "$libdir" ] || die "cannot read the default library path of $BUNDLED_LOADER"
mkdir -p "$root$libdir" "$root$(dirname "$BUNDLED_LOADER_PATH")"
mv "$work/lib/$BUNDLED_LOADER" "$root$BUNDLED_LOADER_PATH"
mv "$work/lib/"* "$root$libdir/"
chmod -R a+rX "$root$libdir"

printf 'root:x:0:0:root:/root:/sbin/nologin\nfrost:x:65532:65532:frost:/nonexistent:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nfrost:x:65532:\n' > "$root/etc/group"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
else
  say "warning: no /etc/ssl/certs/ca-certificates.crt here (Debian's ca-certificates): HTTPS to Snowflake will fail in the image"
fi

cp "$config" "$task/config/frost.yaml"
if [ "$no_data" = 1 ]; then
  say "no data files (--no-data): the config must read a remote source such as Snowflake"
else
  say "building a sample database with $trips trips"
  mkdir -p "$task/data"
  "$binary" seed --trips "$trips" --out "$task/data/citibike.duckdb" >&2
  # Opening the config builds its rollups into the serving database, so a container starts
  # with them; the image's data folder is the one writable place for later refreshes.
  (cd "$task" && "$binary" check --config config/frost.yaml >&2) ||
    die "the packaged config does not open: its files must be named ../data/<name>"
  rm -f "$task"/data/*.wal
  mv "$task/data/"* "$ctx/data/" && rmdir "$task/data"   # the second COPY makes it, owned by frost
fi
web_env=""
if [ -n "$web" ] && [ -f "$web/dashboard.html" ]; then
  cp -r "$web" "$task/web"
  web_env="FROST_WEB_ROOT=/var/task/web"
  say "with the web pages from $web"
elif [ -n "$web" ]; then
  say "no web pages in $web (./scripts/build-web.sh builds them): /dashboard and /docs will answer 404"
fi

version=$(git describe --tags --always --dirty 2>/dev/null || echo unknown)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cat > "$ctx/Containerfile" <<EOF
FROM scratch
COPY rootfs/ /
COPY --chown=65532:65532 data/ /var/task/data/
USER 65532:65532
WORKDIR /var/task
ENV FROST_CONFIG=/var/task/config/frost.yaml FROST_HOST=0.0.0.0 PORT=8080 \\
    LAMBDA_TASK_ROOT=/var/task _HANDLER=serve TMPDIR=/tmp ${web_env}
EXPOSE 8080/tcp
STOPSIGNAL SIGTERM
LABEL org.opencontainers.image.title="frost" \\
      org.opencontainers.image.description="Frost: HTTP JSON APIs over DuckDB and Snowflake (FROM scratch, no shell)" \\
      org.opencontainers.image.version="$version" \\
      org.opencontainers.image.revision="$revision" \\
      org.opencontainers.image.created="$created" \\
      org.opencontainers.image.documentation="docs/deploy-containers.md" \\
      io.frost.health.liveness="/livez" \\
      io.frost.health.readiness="/readyz"
ENTRYPOINT ["/usr/local/bin/frost"]
CMD ["serve"]
EOF

say "podman build (FROM scratch, no network, nothing pulled)"
podman "${store[@]}" build --quiet --network none --pull=never --layers=false -t "$tag" "$ctx" >/dev/null
rm -f "$out"
podman "${store[@]}" save --quiet --format "$format" -o "$out" "$tag"
if [ "$format" = oci-archive ]; then
  # Also a Docker `manifest.json` naming the same blobs, as `docker save` itself writes since
  # Docker 25: a Docker that loads only its legacy format reads that, newer tools the OCI layout.
  mkdir -p "$work/archive" && tar -xf "$out" -C "$work/archive" index.json
  node - "$work/archive" "$out" "$tag" <<'EOF'
const fs = require('fs'), { execFileSync } = require('child_process');
const [dir, archive, tag] = process.argv.slice(2);
const blob = (d) => 'blobs/' + d.replace(':', '/');
const index = JSON.parse(fs.readFileSync(dir + '/index.json', 'utf8'));
const manifest = JSON.parse(execFileSync('tar', ['-xOf', archive, blob(index.manifests[0].digest)]));
fs.writeFileSync(dir + '/manifest.json', JSON.stringify([{
  Config: blob(manifest.config.digest), RepoTags: [tag], Layers: manifest.layers.map((l) => blob(l.digest)),
}]));
EOF
  tar --append -f "$out" -C "$work/archive" manifest.json
fi
[ -n "$keep" ] && { rm -rf "$keep"; cp -a "$ctx" "$keep"; }
if [ "$load" = 1 ]; then
  podman load --quiet -i "$out" >&2
  say "loaded into your podman store as $tag"
fi

size=$(stat -c %s "$out")
unpacked=$(du -sb "$root" "$ctx/data" | awk '{s += $1} END {print s}')
say "$(basename "$out") ($format, $tag): $((size / 1024 / 1024)) MB archive, $((unpacked / 1024 / 1024)) MB unpacked, $BUNDLED_LIBRARIES libraries, $(uname -m)"
echo "$out"
