"""One module per jurisdiction's procedure; each runs a case from the hold to its end state."""
