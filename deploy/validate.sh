#!/usr/bin/env bash
# Validates deploy/serverless.yml and deploy/template.yaml with no AWS account and no network
# to AWS (a CI step; about a minute, most of it the first npm install):
#  1. installs the Serverless Framework v3 (pinned) from npm into deploy/.tools (git-ignored);
#  2. runs `serverless package` on a copy of serverless.yml whose SSM references are replaced by
#     placeholders: Serverless resolves ${ssm:...} while packaging and that needs AWS
#     credentials and network even with a default (shared/reference/aws-lambda.md §4.1); with
#     no network namespace tools it still runs with every AWS_* variable removed;
#  3. checks the CloudFormation it generated, and template.yaml (parsed with CloudFormation's
#     tags; the SAM translator and `sam validate` need Python packages or AWS credentials), for
#     the runtime, handler, timeout, environment and one GET method per route of config/frost.yaml;
#  4. validates the Kubernetes manifests in deploy/kubernetes against the Kubernetes schemas of
#     the npm package kubernetes-models (pinned; compiled for ajv; kubeconform is not reachable
#     from here), then cross-checks them (deploy/validate-kubernetes.mjs). No cluster is used.
# Usage: deploy/validate.sh [path/to/frost-lambda.zip]   (a stand-in zip is made when absent)
set -euo pipefail
cd "$(dirname "$0")/.."
SERVERLESS_VERSION=3.40.0
KUBERNETES_MODELS_VERSION=5.1.0
tools=deploy/.tools

say() { printf '\033[1mvalidate:\033[0m %s\n' "$*" >&2; }

if [ ! -x "$tools/node_modules/.bin/serverless" ] ||
   [ "$(node -p "require('./$tools/node_modules/serverless/package.json').version" 2>/dev/null)" != "$SERVERLESS_VERSION" ]; then
  say "installing serverless@$SERVERLESS_VERSION into $tools"
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "serverless@$SERVERLESS_VERSION" >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/deploy"
artifact=${1:-frost-lambda.zip}
if [ -f "$artifact" ]; then
  cp "$artifact" "$work/frost-lambda.zip"
else
  say "no $artifact: packaging a stand-in zip with an executable bootstrap"
  mkdir -p "$work/standin" && printf '#!/bin/sh\nexit 1\n' > "$work/standin/bootstrap" && chmod 755 "$work/standin/bootstrap"
  (cd "$work/standin" && zip -q -X "$work/frost-lambda.zip" bootstrap)
fi

# The copy: the two SSM references become literals, and nothing else may still need AWS.
sed -E -e "s|^( *SNOWFLAKE_PRIVATE_KEY:).*|\1 'validation-placeholder'|" \
  -e "s|^( *FROST_CURSOR_KEY:).*|\1 'validation-placeholder'|" deploy/serverless.yml > "$work/deploy/serverless.yml"
if grep -nE '\$\{(ssm|aws|cf|s3):' "$work/deploy/serverless.yml" >&2; then
  echo "validate: serverless.yml has a reference that needs AWS at package time (above)" >&2
  exit 1
fi

offline=()
if unshare -n true 2>/dev/null; then offline=(unshare -n); say "running serverless package with no network (unshare -n)"; fi
sls="$PWD/$tools/node_modules/.bin/serverless"
(cd "$work/deploy" &&
  env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
      HOME="$work" SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off SLS_DEPRECATION_DISABLE='*' \
      "${offline[@]}" "$sls" package --stage dev >&2)

NODE_PATH="$PWD/$tools/node_modules" node deploy/validate.mjs \
  "$work/deploy/.serverless/cloudformation-template-update-stack.json" deploy/template.yaml config/frost.yaml
say "serverless.yml and template.yaml are valid"

if [ "$(node -p "require('./$tools/node_modules/kubernetes-models/package.json').version" 2>/dev/null)" != "$KUBERNETES_MODELS_VERSION" ]; then
  say "installing kubernetes-models@$KUBERNETES_MODELS_VERSION (Kubernetes schemas for ajv) into $tools"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "kubernetes-models@$KUBERNETES_MODELS_VERSION" >&2
fi
node deploy/validate-kubernetes.mjs "$PWD/$tools/node_modules" deploy/kubernetes config/snowflake.example.yaml
say "deploy/kubernetes: valid against the Kubernetes schemas (never applied to a real cluster)"
