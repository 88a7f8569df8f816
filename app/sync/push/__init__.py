"""The exactly-once push protocol (DESIGN.md section 7), shared by every PSA connector."""
