"""Kit API v4 access with the connected account's token, pinned to the API origin."""
