"""The conformance suite itself: scripted scenarios and property tests, run by ``conformance run``."""
