"""The tamper-evident access audit log."""
