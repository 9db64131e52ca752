"""Demo devices, metrics, rules and history for the demo town."""
