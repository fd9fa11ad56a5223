//go:build tools

// Package tools pins the CoreDNS command that tests/lab/images/coredns/build.sh builds.
package tools

import _ "github.com/coredns/coredns"
