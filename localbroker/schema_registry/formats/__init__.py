"""The schema formats the registry knows (Avro, Protobuf, JSON Schema), one module each."""
