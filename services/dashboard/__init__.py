"""The operator's dashboard: routing live, queues, devices and parked messages."""
