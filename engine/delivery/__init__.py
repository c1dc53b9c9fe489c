"""Delivery of outbox notifications through channels (console, file, email, webhook, WeCom, DingTalk)."""
