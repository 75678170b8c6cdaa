#!/usr/bin/env bash
# Registers the search attributes pipelines keep up to date, on a real Temporal cluster.
#   TEMPORAL_ADDRESS=temporal.example:7233 NAMESPACE=default deploy/register-search-attributes.sh
set -euo pipefail
address="${TEMPORAL_ADDRESS:-127.0.0.1:7233}"
namespace="${NAMESPACE:-default}"
for attribute in SalesflowCurrentAction=Keyword SalesflowRep=Keyword SalesflowRegion=Keyword \
    SalesflowOutcome=Keyword SalesflowCurrentSince=Datetime; do
  temporal operator search-attribute create --address "$address" --namespace "$namespace" \
    --name "${attribute%%=*}" --type "${attribute##*=}"
done
