# The two commands of the README: `make demo` and `make test`. Everything else they need is
# installed from this repository's files: .venv from pyproject.toml + constraints.txt, the
# Kafka jars from pipeline/kafka/pom.xml (Maven Central), on first use.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# Debian's Chromium: the dashboard's browser test drives it with Playwright (no browser download).
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: demo test test-faults test-long lint down

# Serving needs no torch: `make demo` installs the package alone; the tests add training
# (torch, transformers, peft) and the test tools.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip==25.3
	$(VENV)/bin/pip install --quiet -c constraints.txt -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[train,dev]'
	touch $(TEST_STAMP)

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

demo: $(STAMP)
	$(VENV)/bin/pipeline demo

test: $(TEST_STAMP) $(CHROMIUM)
	$(VENV)/bin/pipeline kafka start
	$(VENV)/bin/ruff check pipeline tests
	$(VENV)/bin/ruff format --check pipeline tests
	$(VENV)/bin/lint-imports --no-logo
	$(VENV)/bin/python -m pytest -q -m "not long and not faults"

# Faults under load (broker stopped and killed, Toxiproxy between worker and broker, the real
# tagger across a broker restart): about 20 minutes; CI runs them after `make test`.
test-faults: $(TEST_STAMP)
	$(VENV)/bin/pipeline kafka start
	$(VENV)/bin/python -m pytest -q -m "faults and not long"

test-long: $(TEST_STAMP)
	$(VENV)/bin/pipeline kafka start
	$(VENV)/bin/python -m pytest -q -m long

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check pipeline tests
	$(VENV)/bin/ruff format --check pipeline tests
	$(VENV)/bin/lint-imports --no-logo

down: $(STAMP)
	$(VENV)/bin/pipeline down
