"""The controller quorum: Raft in KRaft's shape over the Kafka protocol's CONTROLLER listener."""
