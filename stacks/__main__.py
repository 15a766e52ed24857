"""Entry point for operators' `pulumi preview|up -s STACK` (Pulumi.yaml: main: stacks/)."""

from stacks.program import program

program()
