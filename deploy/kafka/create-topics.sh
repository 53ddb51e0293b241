#!/bin/sh
# Creates the platform's topics (shared/contracts/events.py: ALL_TOPICS) if they are
# missing. Runs in the apache/kafka image once the broker answers; safe to repeat.
#
#   KAFKA_BOOTSTRAP_SERVERS     broker to talk to        (default kafka:9092)
#   KAFKA_TOPIC_PARTITIONS      partitions per topic     (default 3)
#   KAFKA_TOPIC_REPLICATION     replication factor       (default 1: a single broker)
set -eu

BOOTSTRAP="${KAFKA_BOOTSTRAP_SERVERS:-kafka:9092}"
PARTITIONS="${KAFKA_TOPIC_PARTITIONS:-3}"
REPLICATION="${KAFKA_TOPIC_REPLICATION:-1}"
TOPICS="customs.declarations.v1 customs.declarations.v1.dlq risk.assessments.v1 customs.holds.v1 cases.events.v1 customs.parcels.v1 customs.parcels.v1.dlq customs.parcel-results.v1 risk.assessments.v1.dlq cases.events.v1.dlq customs.parcel-results.v1.dlq"
BIN=/opt/kafka/bin

tries=0
until "$BIN/kafka-broker-api-versions.sh" --bootstrap-server "$BOOTSTRAP" >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || { echo "Kafka did not answer at $BOOTSTRAP" >&2; exit 1; }
    sleep 2
done

for topic in $TOPICS; do
    "$BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$topic" \
        --partitions "$PARTITIONS" --replication-factor "$REPLICATION"
done
"$BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" --describe --topic "customs.declarations.v1"
echo "topics ready: $TOPICS"
