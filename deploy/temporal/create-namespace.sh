#!/bin/sh
# Creates the platform's Temporal namespace with its retention and the custom search
# attributes case workflows are started with. Runs in the temporalio/admin-tools image
# (temporal CLI) once the server answers; safe to repeat (it only adds what is missing
# and re-applies the retention).
#
#   TEMPORAL_ADDRESS     host:port of the frontend          (default temporal:7233)
#   TEMPORAL_NAMESPACE   namespace of the platform          (default customs-ipr)
#   TEMPORAL_RETENTION   how long closed cases are kept     (default 2160h = 90 days)
set -eu

ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-customs-ipr}"
RETENTION="${TEMPORAL_RETENTION:-2160h}"
SEARCH_ATTRIBUTES="CaseId HolderId DeclarationId"

echo "waiting for the Temporal frontend at $ADDRESS"
tries=0
until temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 90 ] || { echo "Temporal did not become healthy" >&2; exit 1; }
    sleep 2
done

# Closed cases are evidence: keep their history far longer than the 24 h default.
if temporal operator namespace describe --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; then
    temporal operator namespace update --address "$ADDRESS" --namespace "$NAMESPACE" --retention "$RETENTION"
    echo "namespace $NAMESPACE exists; retention set to $RETENTION"
else
    temporal operator namespace create --address "$ADDRESS" --namespace "$NAMESPACE" --retention "$RETENTION" \
        --description "Border enforcement of intellectual-property rights: one workflow per suspected case"
    echo "namespace $NAMESPACE created with retention $RETENTION"
fi

# A new namespace reaches every frontend's cache within a few seconds.
tries=0
until temporal operator search-attribute list --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 30 ] || { echo "namespace $NAMESPACE is not usable" >&2; exit 1; }
    sleep 2
done

for name in $SEARCH_ATTRIBUTES; do
    if temporal operator search-attribute list --address "$ADDRESS" --namespace "$NAMESPACE" | grep -qw "$name"; then
        echo "search attribute $name exists"
    else
        temporal operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" \
            --name "$name" --type Keyword
        echo "search attribute $name (Keyword) created"
    fi
done
