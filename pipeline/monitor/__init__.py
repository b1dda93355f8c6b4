"""What the worker did recently: Prometheus metrics and the dashboard's rolling history."""
