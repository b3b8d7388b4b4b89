// Command tillit is the tillit server and the operator's tools around it:
// one binary, one subcommand per file. `tillit serve` on a fresh machine
// creates its data directory, root key and a self-signed certificate, and
// serves the API and the console over HTTPS.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"tillit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the subcommand named by args[0] (args without the program name)
// and returns the exit status: 0 on success, 1 when the command failed, 2
// for a mistake on the command line or in the configuration.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	p := &proc{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, clock: tillit.SystemClock{}}
	return p.exitCode(p.dispatch(ctx, "", commands(), args))
}

// proc is what a subcommand gets from the process: its streams, its
// environment and the clock. Tests fill it with buffers, maps and a fixed
// clock.
type proc struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	clock          tillit.Clock
}

// command is a subcommand, or a group of them such as `tenant`.
type command struct {
	name, summary string
	run           func(ctx context.Context, p *proc, args []string) error
}

// commands returns the subcommands of tillit, in the order of the help text.
func commands() []command {
	return []command{
		{"serve", "serve the API and the console over HTTPS", runServe},
		{"migrate", "apply the database migrations and exit", runMigrate},
		{"tenant", "create and list tenants (create, list)", runTenant},
		{"token", "create, list and revoke API tokens (create, list, revoke)", runToken},
		{"operator", "create operator accounts (create)", runOperator},
		{"user", "create user accounts of a tenant (create)", runUser},
		{"audit", "verify the audit logs (verify)", runAudit},
		{"receipt", "verify an erasure or anonymisation receipt (verify)", runReceipt},
		{"people", "import people into a tenant's register, or erase them (import, erase)", runPeople},
		{"keys", "rotate tenant keys and the root key (rotate, rotate-root)", runKeys},
		{"retention", "run the retention job now (run)", runRetention},
		{"bench", "load a running server over HTTPS and report throughput and latency", runBench},
		{"version", "print the version of tillit and of Go", runVersion},
	}
}

// usageError is a mistake on the command line or in the configuration; it
// exits with status 2. shown means the flag package printed it already.
type usageError struct {
	msg   string
	shown bool
}

func (e *usageError) Error() string { return e.msg }

// usagef returns a usageError whose message is prefixed with the command.
func usagef(cmd, format string, args ...any) error {
	return &usageError{msg: strings.TrimSpace("tillit "+cmd) + ": " + fmt.Sprintf(format, args...)}
}

// exitCode reports err on stderr, if it is one, and returns the exit status.
func (p *proc) exitCode(err error) int {
	var usage *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		if !usage.shown {
			fmt.Fprintln(p.stderr, usage.msg)
		}
		return 2
	default:
		fmt.Fprintf(p.stderr, "tillit: %v\n", err)
		return 1
	}
}

// dispatch runs the command of cmds named by args[0]. group is "" for the
// top level, or the name of the group (such as "tenant") the commands are in.
func (p *proc) dispatch(ctx context.Context, group string, cmds []command, args []string) error {
	if len(args) == 0 {
		p.usage(p.stderr, group, cmds)
		return &usageError{msg: "", shown: true}
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 && group == "" { // tillit help tenant = tillit tenant -h
			return p.dispatch(ctx, group, cmds, []string{rest[0], "-h"})
		}
		p.usage(p.stdout, group, cmds)
		return nil
	}
	for _, c := range cmds {
		if c.name == name {
			return c.run(ctx, p, rest)
		}
	}
	return usagef(group, "unknown command %q; run 'tillit %s' for the list", name, strings.TrimSpace(group+" help"))
}

// usage prints the commands of a group.
func (p *proc) usage(w io.Writer, group string, cmds []command) {
	prefix := strings.TrimSpace("tillit " + group)
	fmt.Fprintf(w, "usage: %s <command> [flags]\n\ncommands:\n", prefix)
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nrun '%s <command> -h' for the flags of a command.\n", prefix)
}

// flagSet returns the flag set of the command name ("tenant create"), whose
// usage text shows synopsis (the flags that matter) and summary.
func (p *proc) flagSet(name, synopsis, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // p.parse reports errors and prints help itself
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: tillit %s %s\n\n%s\n\nflags:\n", name, synopsis, summary)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args into fs, made by p.flagSet, and rejects positional
// arguments. -h prints the help on stdout and returns flag.ErrHelp.
func (p *proc) parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(p.stdout)
			fs.Usage()
			return err
		}
		return usagef(fs.Name(), "%v; run 'tillit %s -h' for the flags", err, fs.Name())
	}
	if fs.NArg() > 0 {
		return usagef(fs.Name(), "unexpected argument %q; flags go before it, as --flag value", fs.Arg(0))
	}
	return nil
}

// newConfig registers the common flags on fs and returns the Config they
// fill; call p.parseConfig to parse and load it.
func newConfig(fs *flag.FlagSet) *Config {
	cfg := DefaultConfig()
	cfg.RegisterFlags(fs)
	return &cfg
}

// parseConfig parses args into fs and loads cfg, registered on fs by
// newConfig, from defaults, file, environment and flags.
func (p *proc) parseConfig(fs *flag.FlagSet, cfg *Config, args []string) error {
	if err := p.parse(fs, args); err != nil {
		return err
	}
	if err := cfg.Load(fs, p.getenv); err != nil {
		return usagef(fs.Name(), "configuration:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	return nil
}

// newLogger returns the JSON logger of the process, at cfg's level.
func (p *proc) newLogger(cfg *Config) *slog.Logger {
	return slog.New(slog.NewJSONHandler(p.stderr, &slog.HandlerOptions{Level: cfg.SlogLevel()}))
}

// systemContext returns ctx carrying the principal of the operator CLI on
// the server, "system:cli" in audit events.
func systemContext(ctx context.Context) context.Context {
	return tillit.NewContextWithPrincipal(ctx, &tillit.Principal{Kind: tillit.KindSystem, Name: "cli"})
}

// printJSON writes v to w as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
