"""Why a message is or is not showing: the answers the dashboard gives marketers.

- `outranking` (pure): which live messages take another's display slot on the same pages.
- `explanations` (pure): a delivery reason code, said in plain words.
- `debugger`: what one visitor gets on one page now, with the reason for every other message.
- `install_check`: whether the snippet has been heard from, and from where.
- `warnings`: campaigns' Review and message page ask for these through a signal.

Everything decides with `delivery.sdk_api.eligibility` (the delivery API's own code) on the
delivery API's own cached view of the workspace, so what it says is what SDKs get.
"""
