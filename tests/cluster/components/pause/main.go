// Command pause is the lab's pod sandbox process, a Go rendering of Kubernetes' pause.c
// (build/pause/linux/pause.c): it runs as PID 1 of the pod, holds the pod's namespaces open by
// blocking forever, reaps the zombies that get reparented to it, and exits 0 on SIGINT or SIGTERM.
// "-v" prints the version and exits. It has no dependencies and is built static (CGO_ENABLED=0).
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is what "-v" prints; bump it when the behaviour changes.
const version = "1.0.0"

func main() {
	for _, arg := range os.Args[1:] {
		if strings.EqualFold(arg, "-v") {
			fmt.Printf("pause.go %s (datasurface-yellow lab)\n", version)
			return
		}
	}
	if os.Getpid() != 1 {
		// Not an error, as upstream: pause sees use outside of infra containers.
		fmt.Fprintln(os.Stderr, "Warning: pause should be the first process")
	}

	signals := make(chan os.Signal, 16)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		switch sig {
		case syscall.SIGCHLD:
			reap()
		default:
			fmt.Fprintf(os.Stderr, "Shutting down, got signal: %v\n", sig)
			os.Exit(0)
		}
	}
}

// reap collects every child that has exited; several exits can arrive as one SIGCHLD.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}
