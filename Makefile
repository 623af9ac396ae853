# Paliadin — the two commands of the README, and a few helpers.
#   make run   installs what is missing, starts a local model and Paliadin on SQLite
#   make test  installs what is missing and runs every test
SWIFT ?= swift

.PHONY: run test build unit-test e2e llama-stop clean bench

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

clean:
	rm -rf .build .run

# Gateway overhead benchmark (release build): Paliadin vs the same mock upstream directly.
bench:
	bash scripts/bench.sh
