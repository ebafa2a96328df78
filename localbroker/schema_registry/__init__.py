"""A Confluent-compatible Schema Registry served beside the broker (`localbroker --schema-registry
PORT`), keeping its state in the broker's compacted `_schemas` topic as Confluent's does."""
