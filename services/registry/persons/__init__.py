"""People: identity numbers (NIK, KK), provisional ids and person-level rules."""
