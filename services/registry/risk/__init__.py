"""Family stunting-risk (KRS) assessment under versioned BKKBN rule sets."""
