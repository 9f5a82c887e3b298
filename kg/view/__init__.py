"""kg/view."""
