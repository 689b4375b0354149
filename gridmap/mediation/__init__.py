"""Mediation (评理说事): mediation points at three levels and the dispute cases they handle.

Pure rules live in :mod:`gridmap.mediation.rules` (the steps, the levels, masking, who sees
parties); ``services/`` own the transactions, the privacy checks and the audit log,
``repositories/`` the SQL (long statements in ``sql/``), ``web/`` the JSON API and the staff
page. Parties' names, phones and addresses are personal data: masked for everyone but the
staff whose scope holds the point's area and the mediators working the dispute, and every
unmasked view is logged.
"""
