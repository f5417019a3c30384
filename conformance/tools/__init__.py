"""Tools around the suite (benchmark, Schemathesis CLI driver, mutation run); the suite never imports them."""
