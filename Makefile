# txlab front door. The README's two commands:
#   make demo   install what is missing, build, run the broker scenario
#   make test   install what is missing, build, run every test
PRESET ?= dev
BUILD  := build/$(PRESET)
JOBS   ?= $(shell nproc)

.PHONY: deps configure build demo test asan test-asan bench lint clean

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(BUILD)/cli/txlab run scenarios/broker.yaml

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300

test-asan:
	@$(MAKE) --no-print-directory test PRESET=asan

lint: build
	@for f in scenarios/*.yaml; do $(BUILD)/cli/txlab lint $$f || exit 1; done

clean:
	rm -rf build
