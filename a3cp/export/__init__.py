"""Dataset export (docs/export.md): consented, verified, curated captures out as a pseudonymous dataset
in one of three formats (npz, Kaggle ISLR parquet, pose-format `.pose`), with a manifest to re-verify it.

`selection` decides which captures go out, `pseudonym` derives the ids that replace users and records,
`manifest` builds the manifest and README, one module per format writes the files, `archive` streams a
finished export as one tar, and `service` runs an export from the logs to a finished folder.
"""
