"""Cluster metadata the broker persists: cluster id, topics, their ids, partitions and configs."""
