"""Stack programs composed from components, with typed configuration per stack."""
