package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tillit"
)

// The ops of `tillit bench`, in the order they run: those of the register,
// then those of people's rights. erase and retention destroy data, so they
// come last; they run only when named, or with all or rights.
var (
	benchRegisterOps = []string{"import", "create", "get", "update", "lookup", "list", "record"}
	benchRightsOps   = []string{"report", "report-pdf", "erase", "retention"}
	benchAllOps      = append(slices.Clone(benchRegisterOps), benchRightsOps...)
	benchOpGroups    = map[string][]string{"all": benchAllOps, "register": benchRegisterOps, "rights": benchRightsOps}
)

const (
	benchRequestTimeout = 5 * time.Minute        // a large import may take long
	benchProgressEvery  = 2 * time.Second        // progress lines of the population
	benchRetryPause     = 100 * time.Millisecond // after a request that got no answer
	benchSeedPerClient  = 4                      // people each client creates when an op needs some
)

// benchArgs are the flags of `tillit bench`.
type benchArgs struct {
	URL, Ops, Out, CA, TokenFile    string
	Clients, Population, ImportSize int
	ReportRecords, EraseSize        int
	RetentionSize                   int
	Duration                        time.Duration
	Insecure                        bool
}

// runBench drives a running server with concurrent clients and reports the
// throughput and latency of each op.
func runBench(ctx context.Context, p *proc, args []string) error {
	fs := p.flagSet("bench", "--url https://HOST:PORT [--clients 16] [--duration 10s] [--ops LIST] [flags]",
		"Drive a running tillit server over HTTPS with concurrent clients, each on one HTTP/1.1\n"+
			"connection, and print per op the throughput and the p50/p95/p99 latency; --out writes\n"+
			"them as JSON. Ctrl-C stops it and still prints what was measured.\n\n"+
			"It writes to the token's tenant (people with e-mails bench-RUN-N@example.com, and\n"+
			"records): use a tenant made for it. The token comes from $TILLIT_TOKEN or --token-file,\n"+
			"never from a flag (flags show in ps); make one with\n"+
			"  tillit token create --tenant SLUG --role caseworker --name bench\n"+
			"The ops of people's rights (--ops rights, or all) need a role that may erase and keep\n"+
			"the retention policy, and a token that may erase without a step-up:\n"+
			"  tillit token create --tenant SLUG --role privacy --name bench --sensitive\n"+
			"report and report-pdf read the extract of one person with --report-records records;\n"+
			"erase erases people made for it (--erase-size; it ends early when they are all gone);\n"+
			"retention imports --retention-size people collected two years ago, sets a policy of\n"+
			"one month in automatic mode, times one run of the retention job, and puts the tenant's\n"+
			"policy back. It refuses to run when the policy would erase anyone else.\n"+
			"Trust the self-signed certificate of `tillit serve` with --ca DATA/tls/cert.pem\n"+
			"(./tillit-data/tls/cert.pem by default).")
	var a benchArgs
	fs.StringVar(&a.URL, "url", "", "base `URL` of the running server, e.g. https://127.0.0.1:8443")
	fs.IntVar(&a.Clients, "clients", 16, "`number` of concurrent clients")
	fs.DurationVar(&a.Duration, "duration", 10*time.Second, "how long each op runs")
	fs.StringVar(&a.Ops, "ops", strings.Join(benchRegisterOps, ","),
		"comma-separated `ops` to run, in this order: "+strings.Join(benchAllOps, ",")+
			"; or the groups register, rights and all")
	fs.IntVar(&a.Population, "population", 0, "`number` of people to import first, so that the ops run against a tenant of that size")
	fs.IntVar(&a.ImportSize, "import-size", 10000, "`number` of people in each import request")
	fs.IntVar(&a.ReportRecords, "report-records", 1000, "`number` of records of the person whose extract report and report-pdf read")
	fs.IntVar(&a.EraseSize, "erase-size", 10000, "`number` of people made for erase before it starts; the most it erases")
	fs.IntVar(&a.RetentionSize, "retention-size", 100000, "`number` of people retention imports, due, and times the job erasing")
	fs.StringVar(&a.Out, "out", "bench.json", "`file` to write the results to as JSON; empty for none")
	fs.StringVar(&a.CA, "ca", "", "PEM `file` of the certificate to trust, e.g. DATA/tls/cert.pem of a self-signed server")
	fs.BoolVar(&a.Insecure, "insecure", false, "do not verify the server's certificate (the output says so)")
	fs.StringVar(&a.TokenFile, "token-file", "", "`file` with the API token, or the JSON of 'tillit token create'; default $TILLIT_TOKEN")
	if err := p.parse(fs, args); err != nil {
		return err
	}
	c, err := a.config(fs, p.getenv)
	if err != nil {
		return err
	}
	return c.run(ctx, p)
}

// benchConfig is a checked benchArgs with what it names loaded.
type benchConfig struct {
	benchArgs
	base  string // URL without a trailing slash
	ops   []string
	token string
	tls   *tls.Config
}

// config checks the flags, naming the one at fault, and loads the token and
// the certificate to trust.
func (a benchArgs) config(fs *flag.FlagSet, getenv func(string) string) (*benchConfig, error) {
	c := &benchConfig{benchArgs: a}
	var err error
	if c.base, err = benchBaseURL(fs, a.URL); err != nil {
		return nil, err
	}
	if c.ops, err = benchParseOps(fs, a.Ops); err != nil {
		return nil, err
	}
	switch {
	case a.Clients < 1 || a.Clients > 10000:
		return nil, usagef(fs.Name(), "--clients: %d is out of range 1–10000", a.Clients)
	case a.Duration <= 0:
		return nil, usagef(fs.Name(), "--duration: must be positive, e.g. 10s")
	case a.Population < 0:
		return nil, usagef(fs.Name(), "--population: must be 0 or more")
	case a.ImportSize < 1 || a.ImportSize > 1_000_000:
		return nil, usagef(fs.Name(), "--import-size: %d is out of range 1–1000000", a.ImportSize)
	case a.ReportRecords < 0 || a.ReportRecords > 1_000_000:
		return nil, usagef(fs.Name(), "--report-records: %d is out of range 0–1000000", a.ReportRecords)
	case a.EraseSize < 1 || a.EraseSize > 10_000_000:
		return nil, usagef(fs.Name(), "--erase-size: %d is out of range 1–10000000", a.EraseSize)
	case a.RetentionSize < 1 || a.RetentionSize > 10_000_000:
		return nil, usagef(fs.Name(), "--retention-size: %d is out of range 1–10000000", a.RetentionSize)
	}
	if c.token, err = benchToken(fs, getenv, a.TokenFile); err != nil {
		return nil, err
	}
	if c.tls, err = benchTLS(fs, a.CA, a.Insecure); err != nil {
		return nil, err
	}
	return c, nil
}

// benchBaseURL checks the --url of a server and returns it without a
// trailing slash.
func benchBaseURL(fs *flag.FlagSet, raw string) (string, error) {
	if raw == "" {
		return "", usagef(fs.Name(), "--url is required, e.g. --url https://127.0.0.1:8443")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", usagef(fs.Name(), "--url: %q is not the https:// URL of a server, e.g. https://127.0.0.1:8443", raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// benchParseOps returns the ops of a comma-separated list in the order they
// run.
func benchParseOps(fs *flag.FlagSet, list string) ([]string, error) {
	want := map[string]bool{}
	for f := range strings.SplitSeq(list, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		switch {
		case f == "":
		case benchOpGroups[f] != nil:
			for _, op := range benchOpGroups[f] {
				want[op] = true
			}
		case slices.Contains(benchAllOps, f):
			want[f] = true
		default:
			return nil, usagef(fs.Name(), "--ops: unknown op %q; the ops are %s, or the groups register, rights and all",
				f, strings.Join(benchAllOps, ","))
		}
	}
	var ops []string
	for _, op := range benchAllOps {
		if want[op] {
			ops = append(ops, op)
		}
	}
	if len(ops) == 0 {
		return nil, usagef(fs.Name(), "--ops: no op; the ops are %s, or the groups register, rights and all",
			strings.Join(benchAllOps, ","))
	}
	return ops, nil
}

// benchToken returns the API token of --token-file, or else of
// $TILLIT_TOKEN. The file may hold the token or the JSON that `tillit token
// create` prints. The token itself is never in a message.
func benchToken(fs *flag.FlagSet, getenv func(string) string, file string) (string, error) {
	tok, src := getenv("TILLIT_TOKEN"), "TILLIT_TOKEN"
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return "", usagef(fs.Name(), "--token-file: %v", err)
		}
		tok, src = string(data), "--token-file "+file
		var created struct {
			Token string `json:"token"`
		}
		if json.Unmarshal(data, &created) == nil && created.Token != "" {
			tok = created.Token
		}
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", usagef(fs.Name(), "no API token: set TILLIT_TOKEN or use --token-file FILE (never a flag: flags show in ps);\n"+
			"make a token with: tillit token create --tenant SLUG --role caseworker --name bench")
	}
	if !strings.HasPrefix(tok, tillit.TokenPrefix) || strings.ContainsAny(tok, " \t\r\n") {
		return "", usagef(fs.Name(), "%s does not hold an API token (%s…)", src, tillit.TokenPrefix)
	}
	return tok, nil
}

// benchTLS returns the TLS configuration of the clients: trusting the
// certificate in caFile if given, and verifying nothing if insecure.
func benchTLS(fs *flag.FlagSet, caFile string, insecure bool) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case caFile != "" && insecure:
		return nil, usagef(fs.Name(), "--ca and --insecure: use one of them")
	case insecure:
		conf.InsecureSkipVerify = true // asked for with --insecure, and said in the output
	case caFile != "":
		data, err := os.ReadFile(caFile)
		if err != nil {
			return nil, usagef(fs.Name(), "--ca: %v", err)
		}
		conf.RootCAs = x509.NewCertPool()
		if !conf.RootCAs.AppendCertsFromPEM(data) {
			return nil, usagef(fs.Name(), "--ca: no PEM certificate in %s", caFile)
		}
	}
	return conf, nil
}

// bench is one run of `tillit bench`.
type bench struct {
	*benchConfig
	p             *proc
	client        *benchClient
	people        *benchPeople
	rights        benchRights // what the ops of people's rights made
	progressEvery time.Duration
}

// run checks the server and the token, runs the population and the ops,
// prints the table and writes the JSON file. It fails when the run was
// interrupted or every request of an op failed, after reporting.
func (c *benchConfig) run(ctx context.Context, p *proc) error {
	b := &bench{benchConfig: c, p: p, client: newBenchClient(c),
		people: &benchPeople{run: fmt.Sprintf("%08x", rand.Uint32())}, progressEvery: benchProgressEvery}
	defer b.client.http.CloseIdleConnections()
	tenant, err := b.preflight(ctx)
	if err != nil {
		return err
	}
	u, _ := url.Parse(c.base) // checked by benchBaseURL
	rep := &benchReport{URL: u.Redacted(), Tenant: tenant, RunID: b.people.run, Clients: c.Clients,
		DurationS: c.Duration.Seconds(), Population: c.Population, ImportSize: c.ImportSize, Insecure: c.Insecure,
		StartedAt: p.clock.Now(), Go: runtime.Version(), CPUs: runtime.NumCPU(), Results: []benchResult{}}
	if slices.Contains(c.ops, "report") || slices.Contains(c.ops, "report-pdf") {
		rep.ReportRecords = c.ReportRecords
	}
	if slices.Contains(c.ops, "erase") {
		rep.EraseSize = c.EraseSize
	}
	if slices.Contains(c.ops, "retention") {
		rep.RetentionSize = c.RetentionSize
	}
	fmt.Fprintf(p.stdout, "tillit bench of %s (tenant %s, run %s): %d clients, %s an op, %s on %d CPUs\n",
		rep.URL, tenant, rep.RunID, c.Clients, c.Duration, rep.Go, rep.CPUs)
	if c.Insecure {
		fmt.Fprintln(p.stdout, "warning: --insecure: the server's certificate was NOT verified")
	}
	runErr := b.phases(ctx, rep)
	rep.Interrupted = ctx.Err() != nil
	fmt.Fprintln(p.stdout)
	printBenchTable(p.stdout, rep.Results)
	if c.Out != "" {
		data, err := json.MarshalIndent(rep, "", "  ")
		if err == nil {
			err = os.WriteFile(c.Out, append(data, '\n'), 0o644)
		}
		if err != nil {
			return fmt.Errorf("bench: writing the results: %w", err)
		}
		fmt.Fprintf(p.stderr, "bench: results written to %s\n", c.Out)
	}
	return benchOutcome(rep, runErr)
}

// benchOutcome is the error of a run that reported rep after runErr.
func benchOutcome(rep *benchReport, runErr error) error {
	if rep.Interrupted {
		return errors.New("bench: interrupted; the results above are of what ran")
	}
	if runErr != nil {
		return runErr
	}
	var failed []string
	for _, r := range rep.Results {
		if r.Requests > 0 && r.Errors == r.Requests {
			failed = append(failed, r.Op)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("bench: every request of %s failed; see the errors above", strings.Join(failed, ", "))
	}
	return nil
}

// preflight asks the server who the token is, and returns its tenant's
// slug: the URL, the certificate and the token are right, or it says which
// is not.
func (b *bench) preflight(ctx context.Context) (string, error) {
	var me benchMe
	_, err := b.client.do(ctx, http.MethodGet, "/api/v1/me", "", nil, http.StatusOK, &me)
	var f *benchFailure
	var cert *tls.CertificateVerificationError
	switch {
	case errors.As(err, &f) && f.status == http.StatusUnauthorized:
		return "", fmt.Errorf("bench: the server refused the token (%v); check TILLIT_TOKEN or --token-file", err)
	case errors.As(err, &cert):
		return "", fmt.Errorf("bench: %v; trust the server's certificate with --ca, e.g. DATA/tls/cert.pem of a self-signed server", err)
	case err != nil:
		return "", fmt.Errorf("bench: GET %s/api/v1/me: %w", b.base, err)
	case me.Tenant == nil:
		return "", errors.New("bench: the token is not of a tenant; make one with 'tillit token create --tenant SLUG --role caseworker --name bench'")
	}
	if err := b.preflightRights(ctx, &me); err != nil {
		return "", err
	}
	return me.Tenant.Slug, nil
}

// benchMe is what the bench reads of GET /api/v1/me.
type benchMe struct {
	Tenant *struct {
		Slug string `json:"slug"`
	} `json:"tenant"`
	Role        tillit.Role         `json:"role"`
	Permissions []tillit.Permission `json:"permissions"`
}

// phases imports the population, then runs each op in turn until ctx is
// done. Its error is a population or seeding that failed.
func (b *bench) phases(ctx context.Context, rep *benchReport) error {
	if b.Population > 0 {
		if err := b.populate(ctx); err != nil {
			return err
		}
	}
	for _, op := range b.ops {
		if op == "retention" { // one timed run of the job, not a phase of clients
			r, err := b.retention(ctx)
			if r != nil {
				rep.Results = append(rep.Results, *r)
			}
			if err != nil || ctx.Err() != nil {
				return err
			}
			continue
		}
		if err := b.seed(ctx, op); err != nil || ctx.Err() != nil {
			return err
		}
		rep.Results = append(rep.Results, b.phase(ctx, op))
	}
	return nil
}

// benchOpFunc makes one request of an op and returns the items it handled
// and its latency.
type benchOpFunc func(ctx context.Context, w *benchWorker) (items int, took time.Duration, err error)

// benchWorker is one client's state in a phase.
type benchWorker struct {
	stats   benchStats
	body    bytes.Buffer // the import body, reused
	cursor  string       // list: of the next page; "" for the first
	checked bool         // report: the first answer was checked
}

// errBenchDone ends a worker's phase early: the op has nothing left to do
// (erase erased every person made for it). It is not a request.
var errBenchDone = errors.New("nothing left to do")

// phase runs op with b.Clients workers for b.Duration, or until ctx is
// done, and returns what they measured.
//
// An import is one stream, whatever the number of clients: what a
// register owner waits for is one file going in, and several imports at
// once would only share the one writer of the database.
func (b *bench) phase(ctx context.Context, op string) benchResult {
	clients := b.Clients
	if op == "import" {
		clients = 1
	}
	fmt.Fprintf(b.p.stderr, "bench: %s for %s with %d clients\n", op, b.Duration, clients)
	run := b.opFunc(op)
	workers := make([]benchWorker, clients)
	start := time.Now()
	deadline := start.Add(b.Duration)
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				items, took, err := run(ctx, w)
				if ctx.Err() != nil || errors.Is(err, errBenchDone) {
					return // cut off by Ctrl-C, or done: not a measurement
				}
				w.stats.record(items, took, err)
				if f := (*benchFailure)(nil); errors.As(err, &f) && f.status == 0 {
					benchSleep(ctx, benchRetryPause) // no answer: do not spin
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if op == "erase" && b.rights.erase.left() == 0 && ctx.Err() == nil && time.Now().Before(deadline) {
		fmt.Fprintf(b.p.stderr, "bench: erase: all %d people made for it were erased after %.1fs; --erase-size makes more\n",
			len(b.rights.erase.ids), elapsed.Seconds())
	}
	var total benchStats
	for i := range workers {
		total.merge(&workers[i].stats)
	}
	r := newBenchResult(op, clients, &total, elapsed)
	r.Interrupted = ctx.Err() != nil
	return r
}

// benchSleep waits for d or until ctx is done.
func benchSleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// seed creates a few people, unmeasured, when op needs people the bench
// made and there are none yet (create did not run). get, update and record
// only ever touch people the bench made.
func (b *bench) seed(ctx context.Context, op string) error {
	switch op {
	case "report", "report-pdf":
		return b.seedReport(ctx)
	case "erase":
		return b.seedErase(ctx)
	}
	needIDs := op == "get" || op == "update" || op == "record"
	if !(needIDs && b.people.idCount() == 0 || op == "lookup" && b.people.emailCount() == 0) {
		return nil
	}
	fmt.Fprintf(b.p.stderr, "bench: creating %d people for %s first (not measured)\n", b.Clients*benchSeedPerClient, op)
	errs := make([]error, b.Clients)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			for range benchSeedPerClient {
				if _, _, errs[i] = b.createOne(ctx, nil); errs[i] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("bench: creating people for %s: %w", op, err)
		}
	}
	return nil
}

// populate imports b.Population people with the clients in parallel,
// printing the progress on stderr.
func (b *bench) populate(ctx context.Context) error {
	_, err := b.importMany(ctx, "population", b.Population, "", true)
	return err
}

// importMany imports n people collected at collected ("" for now) with the
// clients in parallel, in requests of b.ImportSize, noting their e-mails for
// lookup if register, and printing the progress on stderr as step. It
// returns the number created; its error is an import that failed, and it
// returns no error when ctx is done (the caller reports it).
func (b *bench) importMany(parent context.Context, step string, n int, collected string, register bool) (int64, error) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	var left, done atomic.Int64
	left.Store(int64(n))
	start := time.Now()
	stop := b.progress(step, "people", int64(n), &done)
	workers := make([]benchWorker, b.Clients)
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		wg.Go(func() {
			for ctx.Err() == nil {
				k := b.ImportSize
				if rest := left.Add(-int64(k)); rest < 0 {
					k += int(rest)
				}
				if k <= 0 {
					return
				}
				created, _, err := b.importPeopleAt(ctx, w, k, collected, register)
				if err != nil {
					cancel(fmt.Errorf("bench: %s: POST /api/v1/people/import: %w", step, err))
					return
				}
				done.Add(int64(created))
			}
		})
	}
	wg.Wait()
	stop()
	if parent.Err() != nil {
		return done.Load(), nil // interrupted: the caller reports it
	}
	if err := context.Cause(ctx); err != nil {
		return done.Load(), err
	}
	var total benchStats
	for i := range workers {
		total.merge(&workers[i].stats)
	}
	b.printImported(step, done.Load(), time.Since(start), &total)
	return done.Load(), nil
}

// printImported writes the last line of an import of many on stderr.
func (b *bench) printImported(step string, n int64, elapsed time.Duration, s *benchStats) {
	fmt.Fprintf(b.p.stderr, "%s: %d people in %.1fs, %s/s\n",
		step, n, elapsed.Seconds(), benchThousands(int64(float64(n)/max(elapsed.Seconds(), 1e-9))))
	if s.refused > 0 {
		fmt.Fprintf(b.p.stderr, "%s: the server refused %d lines: %s\n", step, s.refused, strings.Join(s.refusedSamples, "; "))
	}
}

// progress prints the progress of a long step that made done of total
// things (people, records) on stderr every b.progressEvery until the
// returned function is called.
func (b *bench) progress(step, things string, total int64, done *atomic.Int64) (stop func()) {
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(b.progressEvery)
		defer t.Stop()
		last, lastAt := int64(0), time.Now()
		for {
			select {
			case <-quit:
				return
			case now := <-t.C:
				n := done.Load()
				rate := float64(n-last) / now.Sub(lastAt).Seconds()
				fmt.Fprintf(b.p.stderr, "%s: %d/%d %s, %s/s\n", step, n, total, things, benchThousands(int64(rate+0.5)))
				last, lastAt = n, now
			}
		}
	}()
	return func() { close(quit); <-finished }
}
