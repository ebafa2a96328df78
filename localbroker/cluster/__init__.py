"""Cluster mode: several localbrokers replicating partitions under a controller quorum."""
