"""Kafka access for the CLI and the TUI, on aiokafka. Never imports Textual."""
