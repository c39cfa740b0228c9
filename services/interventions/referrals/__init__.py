"""Referrals between sectors: the state machine, referral types and due dates."""
