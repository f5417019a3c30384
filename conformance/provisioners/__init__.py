"""Provisioners create the precondition a scenario needs, on whatever the target can do.

Each API brings its own provisioner protocol in its module here (named by its descriptor's
``provisioning``); ``base`` holds what they share, ``control``, ``vendor`` and ``manifest`` the
means each kind reaches the target with, ``registry`` finds an API's provisioning.
"""
