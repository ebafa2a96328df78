"""The replica manager: a leader's view of its followers, acks=all waits, followers' fetchers."""
