"""The Tradlyte alerts service: YAML rules on gold, delivered to Redis Streams, webhooks and the log."""
