"""Small helpers below every app: no models, no imports of project apps (import-linter checks)."""
