"""Property tests: Schemathesis-generated cases for every operation of every spec, sent through conformance.http."""
