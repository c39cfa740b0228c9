"""FHIR R4 exchange in SATUSEHAT conventions: a child's measurements as Observations,
a household as Group, a person as Patient, and the import of a Bundle of growth
Observations from a health-centre system (docs/FHIR.md)."""
