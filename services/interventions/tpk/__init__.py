"""Family-assistance teams (TPK): composition, visit checklists, catin screening, schedules."""
