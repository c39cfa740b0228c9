"""The intervention catalogue: versioned entries, seed data, change and delivery rules."""
