"""The canonical data contract: tables, codes, knowledge dates, schemas and storage.

Everything downstream of ingestion reads these tables and nothing else.
"""
