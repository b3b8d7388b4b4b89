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
	"io"
	"math/rand/v2"
	"net"
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

// benchAllOps are the ops of `tillit bench`, in the order they run.
var benchAllOps = []string{"import", "create", "get", "update", "lookup", "list", "record"}

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
			"Trust the self-signed certificate of `tillit serve` with --ca DATA/tls/cert.pem\n"+
			"(./tillit-data/tls/cert.pem by default).")
	var a benchArgs
	fs.StringVar(&a.URL, "url", "", "base `URL` of the running server, e.g. https://127.0.0.1:8443")
	fs.IntVar(&a.Clients, "clients", 16, "`number` of concurrent clients")
	fs.DurationVar(&a.Duration, "duration", 10*time.Second, "how long each op runs")
	fs.StringVar(&a.Ops, "ops", strings.Join(benchAllOps, ","), "comma-separated `ops` to run, or all; they run in this order")
	fs.IntVar(&a.Population, "population", 0, "`number` of people to import first, so that the ops run against a tenant of that size")
	fs.IntVar(&a.ImportSize, "import-size", 10000, "`number` of people in each import request")
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
		case f == "all":
			for _, op := range benchAllOps {
				want[op] = true
			}
		case slices.Contains(benchAllOps, f):
			want[f] = true
		default:
			return nil, usagef(fs.Name(), "--ops: unknown op %q; the ops are %s, or all", f, strings.Join(benchAllOps, ","))
		}
	}
	var ops []string
	for _, op := range benchAllOps {
		if want[op] {
			ops = append(ops, op)
		}
	}
	if len(ops) == 0 {
		return nil, usagef(fs.Name(), "--ops: no op; the ops are %s, or all", strings.Join(benchAllOps, ","))
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
	var me struct {
		Tenant *struct {
			Slug string `json:"slug"`
		} `json:"tenant"`
	}
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
	return me.Tenant.Slug, nil
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
	stats  benchStats
	body   bytes.Buffer // the import body, reused
	cursor string       // list: of the next page; "" for the first
}

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
				if ctx.Err() != nil {
					return // cut off by Ctrl-C: not a measurement
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
func (b *bench) populate(parent context.Context) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	var left, done atomic.Int64
	left.Store(int64(b.Population))
	start := time.Now()
	stop := b.progress(int64(b.Population), &done)
	workers := make([]benchWorker, b.Clients)
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		wg.Go(func() {
			for ctx.Err() == nil {
				n := b.ImportSize
				if rest := left.Add(-int64(n)); rest < 0 {
					n += int(rest)
				}
				if n <= 0 {
					return
				}
				created, _, err := b.importPeople(ctx, w, n)
				if err != nil {
					cancel(fmt.Errorf("bench: population: POST /api/v1/people/import: %w", err))
					return
				}
				done.Add(int64(created))
			}
		})
	}
	wg.Wait()
	stop()
	if parent.Err() != nil {
		return nil // interrupted: the caller reports it
	}
	if err := context.Cause(ctx); err != nil {
		return err
	}
	var total benchStats
	for i := range workers {
		total.merge(&workers[i].stats)
	}
	b.printPopulated(done.Load(), time.Since(start), &total)
	return nil
}

// printPopulated writes the last line of the population on stderr.
func (b *bench) printPopulated(n int64, elapsed time.Duration, s *benchStats) {
	fmt.Fprintf(b.p.stderr, "population: %d people in %.1fs, %s/s\n",
		n, elapsed.Seconds(), benchThousands(int64(float64(n)/max(elapsed.Seconds(), 1e-9))))
	if s.refused > 0 {
		fmt.Fprintf(b.p.stderr, "population: the server refused %d lines: %s\n", s.refused, strings.Join(s.refusedSamples, "; "))
	}
}

// progress prints the population's progress on stderr every
// b.progressEvery until the returned function is called.
func (b *bench) progress(total int64, done *atomic.Int64) (stop func()) {
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
				fmt.Fprintf(b.p.stderr, "population: %d/%d people, %s/s\n", n, total, benchThousands(int64(rate+0.5)))
				last, lastAt = n, now
			}
		}
	}()
	return func() { close(quit); <-finished }
}

// benchClient makes the requests of the bench.
type benchClient struct {
	http *http.Client
	base string
	auth string // the Authorization header
}

// newBenchClient returns a client of HTTP/1.1 with keep-alive that keeps
// one connection per bench client.
func newBenchClient(c *benchConfig) *benchClient {
	tr := &http.Transport{
		Proxy:               nil, // measure the server, not a proxy
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     c.tls,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: c.Clients,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   false,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{}, // no HTTP/2
	}
	return &benchClient{http: &http.Client{Transport: tr, Timeout: benchRequestTimeout}, base: c.base, auth: "Bearer " + c.token}
}

// benchFailure is a request that got another status than expected, or
// none (status 0).
type benchFailure struct {
	status int
	msg    string // status, problem code and detail
	err    error  // when there was no answer
}

func (f *benchFailure) Error() string { return f.msg }
func (f *benchFailure) Unwrap() error { return f.err }

// do makes a request with body of type ctype and decodes the answer into
// out if its status is want. The latency is from sending the request to
// having read the whole answer.
func (c *benchClient) do(ctx context.Context, method, path, ctype string, body []byte, want int, out any) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // without the URL, so that the samples group
		}
		return time.Since(start), &benchFailure{msg: err.Error(), err: err}
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	switch {
	case err != nil:
		return took, &benchFailure{msg: "reading the answer: " + err.Error(), err: err}
	case resp.StatusCode != want:
		return took, &benchFailure{status: resp.StatusCode, msg: benchProblem(resp.StatusCode, data)}
	case out != nil:
		if err := json.Unmarshal(data, out); err != nil {
			return took, &benchFailure{status: resp.StatusCode, msg: fmt.Sprintf("%d with an unreadable body: %v", resp.StatusCode, err)}
		}
	}
	return took, nil
}

// benchProblem describes an error answer: "404 not_found: no such person".
func benchProblem(status int, body []byte) string {
	var p struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
	}
	if json.Unmarshal(body, &p) == nil && p.Code != "" {
		return fmt.Sprintf("%d %s: %s", status, p.Code, p.Detail)
	}
	text := strings.TrimSpace(string(body))
	if len(text) > 120 {
		text = text[:120] + "…"
	}
	return fmt.Sprintf("%d %s: %q", status, http.StatusText(status), text)
}
