"""The demo data set and the demo admin: above every domain app, since it writes all of them."""
