package main

import (
	"context"
	"fmt"
	"runtime"

	"tillit"
)

// runVersion prints "tillit <version> <go version>".
func runVersion(_ context.Context, p *proc, args []string) error {
	fs := p.flagSet("version", "", "Print the version of tillit and of the Go toolchain that built it.")
	if err := p.parse(fs, args); err != nil {
		return err
	}
	_, err := fmt.Fprintf(p.stdout, "tillit %s %s\n", tillit.Version, runtime.Version())
	return err
}
