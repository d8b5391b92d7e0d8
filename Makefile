# dualcontrol — quick start: `make demo` (platform + demo province) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1:8000
export DUALCONTROL_DATA_DIR ?= $(CURDIR)/var

.PHONY: demo test install lint typecheck pytest pytest-pg bench screenshots vendor clean pg-partman

$(STAMP): pyproject.toml setup.py src/dualcontrol/core/_hj212_fast.pyx
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Run the platform with the demo province on the embedded SQLite database.
demo: $(STAMP)
	DUALCONTROL_ENV=demo $(BIN)/dualcontrol demo --serve $(HOST)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

## The suite on SQLite; again on DATABASE_URL's database (PostgreSQL in CI) when it is set.
pytest: $(STAMP)
	env -u DATABASE_URL DUALCONTROL_ENV=test $(BIN)/pytest
	@if [ -n "$$DATABASE_URL" ]; then \
	  echo "== database suite on $$DATABASE_URL =="; \
	  DUALCONTROL_ENV=test $(BIN)/pytest --ignore=tests/core; \
	fi

## Lint, type check and every test.
test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

## Service setup (root, once per PostgreSQL server; not part of `make install`): pg_partman, the
## partition manager of the raw time series (docs/operations.md, 分区与保留). Then `dualcontrol migrate`.
pg-partman:
	apt-get install -y -qq postgresql-15-partman

clean:
	rm -rf $(VENV) var build *.egg-info

## Refresh the locally served front-end libraries from npm (committed, so offline installs need no npm).
vendor:
	npm ci --no-audit --no-fund --ignore-scripts  # swagger-ui-dist pulls @scarf/scarf, a telemetry postinstall
	cp node_modules/echarts/dist/echarts.min.js node_modules/htmx.org/dist/htmx.min.js src/dualcontrol/static/vendor/
	cp node_modules/echarts/LICENSE src/dualcontrol/static/vendor/echarts.LICENSE.txt
	cp node_modules/htmx.org/LICENSE src/dualcontrol/static/vendor/htmx.LICENSE.txt
	# the API docs viewer (/api/docs); no source maps (their files are not shipped)
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt src/dualcontrol/static/vendor/
	sed '/sourceMappingURL/d' node_modules/swagger-ui-dist/swagger-ui.css > src/dualcontrol/static/vendor/swagger-ui.css
	cp node_modules/swagger-ui-dist/LICENSE src/dualcontrol/static/vendor/swagger-ui.LICENSE.txt
	cp node_modules/swagger-ui-dist/NOTICE src/dualcontrol/static/vendor/swagger-ui.NOTICE.txt
