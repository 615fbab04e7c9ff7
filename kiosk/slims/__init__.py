"""SLiMS integration: HTTP client, item-export parser, credentials, uploader.

Only :mod:`kiosk.slims.uploader` knows both SLiMS and the store; the client
speaks HTTP only and the export parser reads text only. Nothing is imported
here, so reading an export file does not load requests.
"""
