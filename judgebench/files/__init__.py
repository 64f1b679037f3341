"""Files: bounded reading and schemas of records (records), atomic writes (atomic), names made safe to show (safetext), secrets kept out of messages (redact)."""
