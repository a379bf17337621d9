"""The real Kafka-protocol broker and Valkey server of the harness answer."""

import uuid

import redis
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic


def test_kafka_broker_round_trips_a_keyed_message_through_a_consumer_group(kafka_bootstrap):
    topic = f"harness-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    assert topic in admin.list_topics()
    admin.close()

    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    sent = {f"peer-{i}".encode(): f"event-{i}".encode() for i in range(4)}
    for key, value in sent.items():
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"group-{topic}",
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        max_poll_interval_ms=7000,
        heartbeat_interval_ms=1000,
        consumer_timeout_ms=20000,
    )
    received = {}
    for message in consumer:
        received[message.key] = message.value
        if len(received) == len(sent):
            break
    consumer.close()
    assert received == sent


def test_valkey_server_stores_and_expires_keys(valkey_url):
    client = redis.Redis.from_url(valkey_url)
    assert client.ping() is True
    client.set("balance:peer-1", 4550)
    assert int(client.get("balance:peer-1")) == 4550
    client.set("short-lived", "x", px=1)
    assert client.info("server")["redis_version"]  # answered by a real server
    import time

    time.sleep(0.05)
    assert client.get("short-lived") is None
    client.close()
