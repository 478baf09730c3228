"""Property-based fuzzing of the receiver, token parsing, API paths and the sandbox."""
