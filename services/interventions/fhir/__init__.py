"""FHIR R4 views of interventions: a referral as ServiceRequest (what was asked) and
Task (who is doing it, in which state); docs/FHIR.md."""
