"""What every vendor file importer shares: reading bytes safely, locating columns, parsing
cells into exact values, and writing charge lines in bulk inside the caller's transaction.

Partner Center files and generic profile imports differ only in how a row becomes a
`ParsedLine`; everything before (encoding, fingerprint) and after (dedupe, bulk insert,
vendor entities, rejects) is here, so both obey the same rules.
"""
