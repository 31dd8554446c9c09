#!/bin/bash
# The ten-run rule of rule.md: run_ab.sh's rounds (the same command, alternation and
# settings) ten times. Usage (repository root): bash .../run_rule.sh OUT
exec bash "$(dirname "$0")/run_ab.sh" "$1" 10
