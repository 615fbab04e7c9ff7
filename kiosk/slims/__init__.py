"""SLiMS integration: session, page readers, client, uploader, item export, credentials.

Read it bottom-up: :mod:`~kiosk.slims.pages` reads SLiMS's answers (no
network), :mod:`~kiosk.slims.session` logs in and retries over HTTP,
:mod:`~kiosk.slims.client` asks for stock-take verdicts, uploads and lists,
and :mod:`~kiosk.slims.connect` builds a client from the settings. Only the
uploader (:mod:`~kiosk.slims.uploader` with its strategies
:mod:`~kiosk.slims.online_sync` and :mod:`~kiosk.slims.file_export`, and its
:mod:`~kiosk.slims.ledger` and :mod:`~kiosk.slims.journal`) knows both SLiMS
and the store; :mod:`~kiosk.slims.export` reads item exports as text only.
Nothing is imported here, so reading an export file or writing the upload
file does not load requests.
"""
