"""LAN writer: the local base of documents assigned to users, groups, everyone or a device,
their locks and results, and the LAN terminal API users log in to."""
