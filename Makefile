# Paliadin — the two commands of the README, and a few helpers.
#   make run   installs what is missing, starts a local model and Paliadin on SQLite
#   make test  installs what is missing and runs every test
SWIFT ?= swift

.PHONY: run test build unit-test e2e llama-stop clean bench fuzz

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

build:
	$(SWIFT) build

unit-test:
	$(SWIFT) test

e2e:
	bash scripts/e2e-real-model.sh

llama-stop:
	bash scripts/llama.sh stop

# The parsers under libFuzzer for longer than `make test` does: make fuzz FUZZ_SECONDS=600
fuzz:
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),300) bash scripts/fuzz.sh

clean:
	rm -rf .build .build-fuzz .run

# Gateway overhead benchmark (release build): Paliadin vs the same mock upstream directly.
bench:
	bash scripts/bench.sh
