"""The digest for the organisers: what it holds and the ledger of what went (contents), its
six formats (formats), sending it (delivery), the owner's pages (pages) and the commands
(commands)."""
