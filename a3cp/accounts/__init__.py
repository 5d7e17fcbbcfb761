"""Accounts: who operates the system, what each role may do to a user's data, and how that is recorded.

Pure domain (roles, access events, their fold, `authorize`) plus the stores around it: the access log
(events, under LOG_ROOT, rebuildable), the credentials store (secrets, under DATA_ROOT, never derived from
logs) and the audit trail (under LOG_ROOT, one stream per UTC day). docs/security.md describes them.
"""
