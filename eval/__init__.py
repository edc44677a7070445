"""eval: benchmarks and quality evaluations that drive the engine as a user would."""
