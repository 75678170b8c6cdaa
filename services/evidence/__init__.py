"""The evidence service: files that prove an action happened (photos, scans, documents)."""
