"""The city's directory of administrative and handling units (districts, wards, departments)."""
