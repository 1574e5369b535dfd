"""The Activity log and People dashboard pages: views.py (pages), activity.py (what they read)."""
