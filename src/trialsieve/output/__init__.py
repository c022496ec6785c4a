"""Renderings of a screening result: terminal text, JSON, the eligibility checklist
(HTML/PDF) and the files a site keeps (SDTM TI/IE, screening log, FHIR ResearchSubject).

Nothing here evaluates a criterion: each module reads the result of
`trialsieve.engine.screen` (or its JSON document) and writes it out.
"""
