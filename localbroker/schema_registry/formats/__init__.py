"""The schema formats the registry knows, one module each (avro.py, ...)."""
