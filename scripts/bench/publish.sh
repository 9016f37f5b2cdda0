#!/usr/bin/env bash
# The shell pipeline `npm run bench` compares the action with: what users run today to publish
# Helm charts to ECR, one login per chart as in a loop.
#
#   publish.sh OUT_DIR VERSION CHART_DIR...
#
# Environment: HELM on PATH; AWS (the aws CLI), AWS_REGION, ECR_API (--endpoint-url), REGISTRY
# (host:port), NAMESPACE; BENCH_LOGIN=0 skips the login (the "floor": already logged in).
set -euo pipefail
out=$1
version=$2
shift 2
for chart in "$@"; do
  if [ "${BENCH_LOGIN:-1}" != 0 ]; then
    "$AWS" ecr get-login-password --region "$AWS_REGION" --endpoint-url "$ECR_API" |
      helm registry login "$REGISTRY" --username AWS --password-stdin
  fi
  helm package "$chart" --version "$version" --destination "$out"
  helm push "$out/$(basename "$chart")-$version.tgz" "oci://$REGISTRY/$NAMESPACE"
done
