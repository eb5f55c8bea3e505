"""Routing: business processes and the rules that turn an upload request into deliveries."""
