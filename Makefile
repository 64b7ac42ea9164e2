# Set-up and the two everyday commands. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DEMO_DIR ?= runs/demo

.PHONY: demo test docs install chromium clean

install: $(STAMP)

# torch is installed first and pinned here (not in the package metadata). Plain pip takes a CPU
# wheel only where it is configured to find one (a local wheel folder, PyTorch's CPU index); on
# other Linux machines PyPI's torch is the multi-GB CUDA build, so on a CPU-only machine run
# `.venv/bin/pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu` first.
# The bench extra (lm-evaluation-harness) is installed too: tests compare our BBQ scoring with
# the harness's own code; and the docs extra (MkDocs): the suite builds the documentation site.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[test,bench,docs]"
	touch $(STAMP)

# Headless Chromium for the report tests (Debian package; never a browser download).
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "note: could not install chromium; browser tests will be skipped"; }

# Two pytest workers (pytest-xdist), one module per worker at a time so that a module's shared
# study or server is set up once: the suite's heavy tests are single-threaded for much of their time.
test: $(STAMP) chromium
	$(PY) -m pytest -q -n 2 --dist loadscope --durations=15

# The documentation site, into build/site; --strict turns a broken link or anchor into an error.
# (NO_MKDOCS_2_WARNING silences Material's banner about MkDocs 2.0, which says nothing about our docs.)
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

demo: $(STAMP)
	$(PY) -m biasinherit study --preset demo --out $(DEMO_DIR) --profile

clean:
	rm -rf $(VENV) runs .pytest_cache
