//go:build tools

// Package tools pins the statsd_exporter command that tests/lab/images/statsd-exporter/build.sh builds.
package tools

import _ "github.com/prometheus/statsd_exporter"
