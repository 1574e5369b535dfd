"""Preview on the real page: tokens.py (the signed token the delivery API honours), views.py
(the dashboard link that makes one)."""
