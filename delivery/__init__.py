"""Delivery and identity: what SDKs send and read, and the pages that show who they are.

tracking/ (the tracking API, identity), sdk_api/ (the delivery API and the SDK script),
people/ (the Activity and People pages), preview/ (preview on the real page). The map is in
the README's Layout section.
"""
