"""``tsdx bench``: tsdx measured against its ceilings (raw RabbitMQ, bare FastAPI) in one run.

The pure parts (statistics, the table, machine facts) are separate from the parts that start
processes and send load, so they can be tested without I/O.
"""
