"""The CSV importer (`import_records`, the Import CSV page and its Celery task).

It writes companies and contacts (customers), deals, products and items (deals), chat contacts,
rooms and survey answers (chats), so it lives above those three apps and none of them imports it.
"""
