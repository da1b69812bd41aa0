# The two commands of the README:
#   make run   installs dangan into .venv and runs the service on a working local default under ./local
#   make test  installs the test tools and runs the test suite (plain `pytest`, on 3 workers), then the linter
#   make lint  the linter alone (ruff, configured in pyproject.toml)
VENV   ?= .venv
LOCAL  ?= $(CURDIR)/local
PYTHON ?= python3
DANGAN  = $(VENV)/bin/dangan
CONFIG  = $(LOCAL)/config.yaml

.PHONY: run test lint install clean-local

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

$(CONFIG): | install
	$(DANGAN) init --config $(CONFIG) --archive-root $(LOCAL)/archive \
	  --mirror-root $(LOCAL)/mirror --state-dir $(LOCAL)/state

run: install $(CONFIG)
	# the service in the foreground: watches local/archive, mirrors to local/mirror (Ctrl-C stops it)
	$(DANGAN) run --config $(CONFIG)

# The suite mostly waits on real services and disks, so it runs on 3 workers; the few tests that change
# a machine-wide setting (marked "alone") run afterwards by themselves.
test: install
	$(VENV)/bin/pytest -n 3 -m "not soak and not alone"
	$(VENV)/bin/pytest -m "alone and not soak"
	$(VENV)/bin/ruff check .

lint: install
	$(VENV)/bin/ruff check .

clean-local:
	rm -rf $(LOCAL)
