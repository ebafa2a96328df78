"""The transaction coordinator: transactional ids, their producer epochs and their
transactions, as a state machine (coordinator.py) with a durable state (store.py)."""
