"""OAuth 2.0 with PKCE against Kit: PKCE values, client, loopback receiver, tokens."""
