"""SEC EDGAR connector: company submissions, XBRL company facts and the ticker list."""
