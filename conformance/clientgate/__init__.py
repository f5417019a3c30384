"""The client gate: the sandbox judges a client library's requests and reports what its tests covered.

Everything here sits outside the sandbox: an ASGI middleware watches the traffic of any app (the
sandbox, or a proxy in front of a vendor) and judges it against the catalogue's request rules. This
package is imported by a pytest entry point in every session of anyone who installs the project, so
it imports nothing at import time.
"""
