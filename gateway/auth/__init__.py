"""Authentication: signing keys, tokens, passwords, lockout."""
