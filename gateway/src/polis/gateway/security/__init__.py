"""Authentication and authorisation: API keys, JWTs, roles, rate limits (pure logic)."""
