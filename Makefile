# DataMCP task runner. `make run` and `make test` are the README's two commands; both bootstrap first.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
VENV := .venv/bin
export PATH := $(CURDIR)/.tools/bin:$(CURDIR)/.venv/bin:$(PATH)

.PHONY: bootstrap run test lint typecheck pytest fast lock tools clean-tools bench mutate image

bootstrap:
	@scripts/bootstrap.sh

## The main job on embedded defaults (local file backend, SQLite audit log, simulated cloud): check the toolchain,
## show a real preview of aws-dev, then serve the MCP server on 127.0.0.1:8000 and print how to connect a client:
## the state dir in use, each dev token with its principal and role, and where the tokens are kept (mode 0600).
run: bootstrap
	$(VENV)/datamcp doctor
	$(VENV)/datamcp preview aws-dev
	DATAMCP_CONSOLE_DEV_LOGIN=1 $(VENV)/datamcp-mcp --transport http --dev-tokens

## The whole suite: lint, type check, every test (including the slow ones that run the real CLI).
test: bootstrap lint typecheck pytest

lint:
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

typecheck:
	$(VENV)/mypy

pytest:
	$(VENV)/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

## The fast set only (no real CLI runs): seconds, for the edit-test loop.
fast: bootstrap
	$(VENV)/pytest -m "not slow" $(PYTEST_ARGS)

## Mutation testing of the safety core (on demand, not part of `make test`): mutmut changes the rules one at a time in
## a copy (mutants/) and runs the fast tests; prints the score per module and fails on a mutant no test kills that is
## not listed as equivalent (scripts/mutation/equivalent.txt). `make mutate MUTANTS='engine.identity.*'` runs some.
mutate: bootstrap
	scripts/mutate.sh $(MUTANTS)

## The server's OCI image, daemonless (mmdebstrap + umoci, as root): .cache/image/datamcp-oci, tag = the version;
## a no-op while its inputs are unchanged. Push and pin it as docs/deployment.md says.
image: bootstrap
	$(if $(filter 0,$(shell id -u)),,sudo) scripts/image/build.sh

## Re-resolve requirements/lock.txt from requirements/*.in (needs registry access).
lock:
	$(VENV)/uv pip compile --python-version 3.11 --generate-hashes --no-header --annotation-style line \
	  requirements/dev.in -o requirements/lock.txt
	$(VENV)/uv pip compile --python-version 3.11 --generate-hashes --no-header --annotation-style line \
	  requirements/bootstrap.in -o requirements/bootstrap.txt

tools:
	@scripts/build-go-tools.sh

clean-tools:
	rm -rf .tools
