"""Authorisation: roles, the permission matrix, region scope."""
