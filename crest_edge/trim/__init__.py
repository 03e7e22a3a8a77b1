"""Vocabulary trimming: a smaller CREST for the languages an app serves, and a guard against what was cut.

`crest_edge.trim.build.trim` writes the trimmed checkpoint (pieces chosen by `select`, scripts from
`scripts`, the record in `record`); `coverage` is the runtime guard every Guard on a trimmed model
applies; `check` measures the trimmed model against the untrimmed one per served language.
"""
