"""Admin for the customer snapshot: explanations, rules, data quality (identity)."""
