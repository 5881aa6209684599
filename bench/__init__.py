"""The scale benchmark (issue 7): a realistic data set made fast, and the figures measured on it.

`datagen` fills the real tables (PostgreSQL COPY, or plain INSERTs on SQLite for tiny smoke
runs); `measure` times import, identity resolution, rebuild and the API against direct SQL
(`direct_sql`); `python manage.py bench_insights` drives both.
"""
