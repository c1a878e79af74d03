"""The users service: accounts, passwords, access and refresh tokens, signing keys."""
