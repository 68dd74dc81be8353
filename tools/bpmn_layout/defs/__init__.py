"""One module per process; each exposes build() -> model.Process."""
