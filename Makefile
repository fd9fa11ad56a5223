# datasurface.yellow — developer and lab entry points. Every target prepares what it needs itself
# (scripts/setup.sh: apt packages when root, .venv, the collection self-link).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export CONTAINERS_CONF := $(CURDIR)/tests/lab/containers.conf
export ANSIBLE_FORCE_COLOR := false
export PY_COLORS := 0

.PHONY: help setup lab lab-down lab-image test lint sanity unit cluster integration molecule build changelog

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: ## Install system packages (as root), the pinned .venv and the collection self-link
	@scripts/setup.sh

lab-image: setup ## Build (once) the Debian bookworm base image for the lab and molecule
	@tests/lab/build_base_image.sh

lab: lab-image ## Bring up the lab (real control plane, KWOK-simulated nodes; see tests/lab/README.md), run site.yml
	ansible-playbook tests/lab/up.yml -i inventories/lab
	ansible-playbook site.yml -i inventories/lab

lab-down: setup ## Remove the lab containers, network and its own control plane (or its namespace in a shared one)
	ansible-playbook tests/lab/down.yml -i inventories/lab

test: setup ## Everything CI runs: lint, changelog, sanity, unit, cluster, build, integration, molecule, lab
	@scripts/test.sh

lint: setup ## ansible-lint (production profile) and yamllint
	@scripts/test.sh lint

sanity: setup ## ansible-test sanity on a copy at .cache/ansible_collections/datasurface/yellow
	@scripts/test.sh sanity

unit: setup ## pytest unit tests
	@scripts/test.sh unit

cluster: setup ## Build (or reuse) and start the control plane (tests/cluster) and run its own tests
	@scripts/test.sh cluster

integration: lab-image ## pytest tests that run playbooks against lab containers
	@scripts/test.sh integration

molecule: lab-image ## molecule test for every role scenario
	@scripts/test.sh molecule

build: setup ## ansible-galaxy collection build into .cache/build
	@scripts/test.sh build
