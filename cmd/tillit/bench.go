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
	"sort"
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

// opFunc returns the function that makes one request of op.
func (b *bench) opFunc(op string) benchOpFunc {
	return map[string]benchOpFunc{
		"import": func(ctx context.Context, w *benchWorker) (int, time.Duration, error) {
			return b.importPeople(ctx, w, b.ImportSize)
		},
		"create": b.createOne,
		"get":    b.getOne,
		"update": b.updateOne,
		"lookup": b.lookupOne,
		"list":   b.listPage,
		"record": b.recordOne,
	}[op]
}

// benchImportResult is the answer of an import.
type benchImportResult struct {
	Created int `json:"created"`
	Refused []struct {
		Line   int    `json:"line"`
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"refused"`
	Imported bool `json:"imported"`
}

// importPeople imports n new people in one NDJSON request, built before the
// clock starts, and returns the number created.
func (b *bench) importPeople(ctx context.Context, w *benchWorker, n int) (int, time.Duration, error) {
	lo := b.people.claim(n)
	w.body.Reset()
	writeBenchPeople(&w.body, b.people.run, lo, n)
	var res benchImportResult
	took, err := b.client.do(ctx, http.MethodPost, "/api/v1/people/import", "application/x-ndjson", w.body.Bytes(), http.StatusOK, &res)
	if err != nil {
		return 0, took, err
	}
	lines := make([]int, len(res.Refused))
	for i, r := range res.Refused {
		lines[i] = r.Line
		w.stats.refusedLine(strings.TrimPrefix(r.Field+": ", ": ") + r.Reason)
	}
	if res.Imported {
		b.people.addImported(lo, n, lines)
	}
	return res.Created, took, nil
}

// createOne creates one new person.
func (b *bench) createOne(ctx context.Context, _ *benchWorker) (int, time.Duration, error) {
	i := b.people.claim(1)
	body, _ := json.Marshal(benchPersonAt(b.people.run, i)) // cannot fail: strings only
	var created struct {
		ID int64 `json:"id"`
	}
	took, err := b.client.do(ctx, http.MethodPost, "/api/v1/people", "application/json", body, http.StatusCreated, &created)
	if err != nil {
		return 0, took, err
	}
	b.people.addCreated(created.ID, i)
	return 1, took, nil
}

// getOne reads a person the bench created.
func (b *bench) getOne(ctx context.Context, _ *benchWorker) (int, time.Duration, error) {
	took, err := b.client.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/people/%d", b.people.randomID()), "", nil, http.StatusOK, nil)
	return 1, took, err
}

// updateOne changes the family name of a person the bench created.
func (b *bench) updateOne(ctx context.Context, _ *benchWorker) (int, time.Duration, error) {
	body, _ := json.Marshal(map[string]string{"family_name": benchFamilyNames[rand.IntN(len(benchFamilyNames))]})
	path := fmt.Sprintf("/api/v1/people/%d", b.people.randomID())
	took, err := b.client.do(ctx, http.MethodPatch, path, "application/merge-patch+json", body, http.StatusOK, nil)
	return 1, took, err
}

// lookupOne looks a person up by an e-mail the bench generated; the items
// are the people found.
func (b *bench) lookupOne(ctx context.Context, _ *benchWorker) (int, time.Duration, error) {
	body, _ := json.Marshal(map[string]string{"email": b.people.randomEmail()})
	var found struct {
		People []json.RawMessage `json:"people"`
	}
	took, err := b.client.do(ctx, http.MethodPost, "/api/v1/people/lookup", "application/json", body, http.StatusOK, &found)
	return len(found.People), took, err
}

// listPage reads the next page of people of the worker's walk through the
// tenant, starting again after the last.
func (b *bench) listPage(ctx context.Context, w *benchWorker) (int, time.Duration, error) {
	path := "/api/v1/people?limit=100"
	if w.cursor != "" {
		path += "&cursor=" + url.QueryEscape(w.cursor)
	}
	var page struct {
		People     []json.RawMessage `json:"people"`
		NextCursor string            `json:"next_cursor"`
	}
	took, err := b.client.do(ctx, http.MethodGet, path, "", nil, http.StatusOK, &page)
	if err == nil {
		w.cursor = page.NextCursor
	}
	return len(page.People), took, err
}

// recordOne adds a note to a person the bench created.
func (b *bench) recordOne(ctx context.Context, _ *benchWorker) (int, time.Duration, error) {
	body, _ := json.Marshal(map[string]string{"category": "note", "title": "Bench note",
		"body":        "Called about the invoice; will call back next week.",
		"occurred_at": b.p.clock.Now().Format(time.RFC3339)})
	path := fmt.Sprintf("/api/v1/people/%d/records", b.people.randomID())
	took, err := b.client.do(ctx, http.MethodPost, path, "application/json", body, http.StatusCreated, nil)
	return 1, took, err
}

// benchPeople keeps what a run knows of the people it made, compactly: the
// ids of the people created one by one (get, update and record use only
// these, never people the bench did not make) and the generator indices of
// all that were created or imported, as spans, whose e-mails lookup uses.
type benchPeople struct {
	run  string       // the run id in the e-mails
	next atomic.Int64 // the index of the next person generated

	mu    sync.RWMutex
	ids   []int64
	spans []benchSpan
	count int64 // people in spans
}

// benchSpan is the indices lo to lo+n-1; before is the people of the spans
// before it.
type benchSpan struct{ lo, n, before int64 }

// claim reserves the indices of n new people and returns the first.
func (ps *benchPeople) claim(n int) int64 { return ps.next.Add(int64(n)) - int64(n) }

// addCreated notes person id, generated with index i.
func (ps *benchPeople) addCreated(id, i int64) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.ids = append(ps.ids, id)
	ps.addSpan(i, 1)
}

// addImported notes the people of an import of n from index lo, but for
// the refused lines (1 is the first person).
func (ps *benchPeople) addImported(lo int64, n int, refused []int) {
	slices.Sort(refused)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	from, end := lo, lo+int64(n)
	for _, line := range refused {
		i := lo + int64(line) - 1
		if i < from || i >= end {
			continue
		}
		ps.addSpan(from, i-from)
		from = i + 1
	}
	ps.addSpan(from, end-from)
}

// addSpan adds the indices lo to lo+n-1; ps.mu is held.
func (ps *benchPeople) addSpan(lo, n int64) {
	if n <= 0 {
		return
	}
	if k := len(ps.spans) - 1; k >= 0 && ps.spans[k].lo+ps.spans[k].n == lo {
		ps.spans[k].n += n
	} else {
		ps.spans = append(ps.spans, benchSpan{lo: lo, n: n, before: ps.count})
	}
	ps.count += n
}

func (ps *benchPeople) idCount() int {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	return len(ps.ids)
}

func (ps *benchPeople) emailCount() int64 {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	return ps.count
}

// randomID returns the id of a random person created; 0 if none was.
func (ps *benchPeople) randomID() int64 {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	if len(ps.ids) == 0 {
		return 0
	}
	return ps.ids[rand.IntN(len(ps.ids))]
}

// randomEmail returns the e-mail of a random person created or imported; ""
// if none was.
func (ps *benchPeople) randomEmail() string {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	if ps.count == 0 {
		return ""
	}
	r := rand.Int64N(ps.count)
	k := sort.Search(len(ps.spans), func(k int) bool { return ps.spans[k].before > r }) - 1
	return benchEmail(ps.run, ps.spans[k].lo+r-ps.spans[k].before)
}

// The material of generated people: Norwegian names and real postal codes.
var (
	benchGivenNames = []string{"Ola", "Kari", "Nora", "Jakob", "Emma", "Filip", "Ingrid", "Lars",
		"Sofie", "Henrik", "Maja", "Magnus", "Åse", "Bjørn", "Sara", "Emil"}
	benchFamilyNames = []string{"Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen",
		"Kristiansen", "Jensen", "Karlsen", "Berg", "Haugen", "Hagen", "Bakken", "Søreide"}
	benchStreets = []string{"Storgata", "Kirkegata", "Skolegata", "Strandveien", "Parkveien", "Bygdøy allé", "Torggata", "Fjordveien"}
	benchPlaces  = [][2]string{{"0150", "Oslo"}, {"5003", "Bergen"}, {"7011", "Trondheim"}, {"4006", "Stavanger"},
		{"9008", "Tromsø"}, {"3015", "Drammen"}, {"4612", "Kristiansand"}, {"1606", "Fredrikstad"}}
)

// benchPerson is a generated person as the API takes it.
type benchPerson struct {
	GivenName  string       `json:"given_name"`
	FamilyName string       `json:"family_name"`
	Email      string       `json:"email"`
	Phone      string       `json:"phone"`
	BirthDate  string       `json:"birth_date"`
	Address    benchAddress `json:"address"`
	Language   string       `json:"language"`
}

// benchAddress is the address of a benchPerson.
type benchAddress struct {
	Street     string `json:"street"`
	PostalCode string `json:"postal_code"`
	City       string `json:"city"`
	Country    string `json:"country"`
}

// benchPersonAt returns person i of run: the same for the same run and i,
// valid for a tenant in Norway, with an e-mail of its own, a Norwegian
// mobile number, and no national id (which would have to be unique too).
func benchPersonAt(run string, i int64) benchPerson {
	h := uint64(i) * 0x9e3779b97f4a7c15 // spreads neighbours over the lists
	h ^= h >> 29
	place := benchPlaces[h>>24%uint64(len(benchPlaces))]
	return benchPerson{
		GivenName:  benchGivenNames[h%uint64(len(benchGivenNames))],
		FamilyName: benchFamilyNames[h>>8%uint64(len(benchFamilyNames))],
		Email:      benchEmail(run, i),
		Phone:      fmt.Sprintf("+4791%06d", i%1_000_000),
		BirthDate:  time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(h>>32%25000)).Format(time.DateOnly),
		Address: benchAddress{
			Street:     fmt.Sprintf("%s %d", benchStreets[h>>16%uint64(len(benchStreets))], h>>40%200+1),
			PostalCode: place[0], City: place[1], Country: "NO",
		},
		Language: "nb",
	}
}

// benchEmail returns the e-mail of person i of run.
func benchEmail(run string, i int64) string { return fmt.Sprintf("bench-%s-%d@example.com", run, i) }

// writeBenchPeople writes people lo to lo+n-1 of run to buf as NDJSON.
func writeBenchPeople(buf *bytes.Buffer, run string, lo int64, n int) {
	enc := json.NewEncoder(buf)
	for i := range int64(n) {
		_ = enc.Encode(benchPersonAt(run, lo+i)) // cannot fail: strings only
	}
}
