"""The dashboard's storage: nothing durable. Its live view is rebuilt from the events feed and
the registry at start; the runtime's store only carries the (empty) outbox every service has."""

from shared.storage import Collection

COLLECTIONS: tuple[Collection, ...] = ()
