"""Reading raw inputs: discovery, spreadsheets (submissions) and documents (report texts)."""
