"""Entity resolution: a partner's LEI by GLEIF name search and CIK by the SEC ticker list."""
