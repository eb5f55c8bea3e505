"""Copies of another service's records, kept current by its events (which carry a revision)."""

from __future__ import annotations

from shared.storage import Doc, Session


async def put_newer(db: Session, collection: str, doc: Doc) -> bool:
    """Store a copy unless a newer revision is already there (events may arrive out of order)."""
    current = await db.get(collection, doc["id"])
    if current is None:
        await db.put(collection, doc)
        return True
    if current.get("revision", 0) >= doc["revision"]:
        return False
    return await db.update(
        collection,
        doc["id"],
        {k: v for k, v in doc.items() if k != "id"},
        expect={"revision": current["revision"]},
    )
