"""Personal-data rights (UU PDP No. 27/2022, GDPR): the erasure of one person everywhere.

Erasure reaches the CRM (customers), the deals and the chats, so it sits above those three apps;
none of them imports it. insights hears `privacy.erasure.person_erased` and queues a rebuild.
"""
