"""Who may connect and what they may do: listeners and their security protocols, SASL
(PLAIN, SCRAM), TLS, principals and ACLs.

Plain logic over Kafka's names, no sockets: the server asks a connection's `Session` whether a
request may pass, handlers ask the `Authorizer`; both are testable without a socket.
"""
