"""The screening workbench: a web app around the same engine as the command line.

Site staff import patients, screen them, record what the record cannot show (as FHIR
resources), and the investigator signs; every change is in a hash-chained audit trail.
"""
