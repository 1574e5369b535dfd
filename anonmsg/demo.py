"""The demo login that `make run` seeds (development only: its password is public).

The demo workspace and its messages are seeded by delivery/demo_workspace.py, which knows the
campaigns and the demo website; this module only names the login, for the login page and the
production-mode refusal (anonmsg/auth.py).
"""

DEMO_EMAIL = "demo@anonmsg.local"
DEMO_PASSWORD = "anonmsg-demo"
DEMO_WORKSPACE = "Demo workspace"
