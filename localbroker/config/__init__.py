"""Broker and topic configuration with Kafka's names, defaults, sources and synonyms."""
