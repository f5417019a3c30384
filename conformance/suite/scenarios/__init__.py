"""Scripted scenarios, one module per API; each test reads as its rule's story."""
