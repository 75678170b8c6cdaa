"""The web dashboard: a small HTTP service in front of the analytics and pipeline services.

It serves one bilingual page (static/) and JSON endpoints (api.py) that call
AnalyticsService and PipelineService over gRPC as the viewer (viewer.py), and can write the
same page with its data embedded as a file that opens without a server (snapshot.py).
"""
