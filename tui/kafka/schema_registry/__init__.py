"""Reading and writing records in Confluent's wire format through a Schema Registry.

Any registry that speaks Confluent's REST API will do (Confluent's, Karapace, Redpanda's,
Apicurio's ccompat API, localbroker's own): `client.py` talks to it, `settings.py` reads where
it is and how to log in from Kafka client properties (`schema.registry.url`,
`basic.auth.user.info`), `wire.py` tells a Confluent-framed record from other bytes and
decodes it with the schema its id names, and `encoding.py` writes records as Confluent's
serializers write them. Parsing and decoding are the schema formats' own, shared with the
broker's registry through `localbroker.public`.
"""
