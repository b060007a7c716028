"""Wistia API access: the HTTP client, the streams declared as data, and the paginator."""
