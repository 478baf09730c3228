"""Qt adapters of the core: session state machine, threads, resources."""
