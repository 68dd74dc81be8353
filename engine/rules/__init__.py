"""Business rules: working-day calendar and deadline arithmetic."""
