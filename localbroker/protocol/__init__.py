"""Kafka's wire protocol without I/O: frames in, typed requests out, responses back to bytes."""
