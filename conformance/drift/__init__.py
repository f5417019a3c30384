"""Documentation drift: recorded traffic judged against the specs, and fresh vendor pages against the pinned ones.

Offline by design: nothing here sends a request (``--live`` records first through ``conformance run``).
"""
