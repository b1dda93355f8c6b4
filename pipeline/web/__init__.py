"""Views added to the Faust web server."""
