"""The simulated cloud: deterministic fake outputs and invoke answers, shared by mocks and the sandbox provider."""
