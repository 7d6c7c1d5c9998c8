"""World Bank Worldwide Governance Indicators (CC BY 4.0): bulk workbook or API v2."""
