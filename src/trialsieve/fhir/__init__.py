"""FHIR R4 input: files and folders to patient records."""
