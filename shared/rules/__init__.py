"""Legal rule data (calendars, fixed rates) and the pure functions that apply them."""
