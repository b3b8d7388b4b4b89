package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tillit"
)

func TestBenchBuckets(t *testing.T) {
	prevHi := int64(0)
	for i := range 4000 {
		lo, hi := benchBucketRange(i)
		if lo != prevHi || hi <= lo {
			t.Fatalf("bucket %d is [%d, %d), after one ending at %d", i, lo, hi, prevHi)
		}
		if w := hi - lo; w > 1 && float64(w)/float64(lo) > 1.0/128 {
			t.Fatalf("bucket %d [%d, %d) is wider than 1/128 of its start", i, lo, hi)
		}
		if benchBucket(lo) != i || benchBucket(hi-1) != i {
			t.Fatalf("bucket %d [%d, %d): ends go to %d and %d", i, lo, hi, benchBucket(lo), benchBucket(hi-1))
		}
		prevHi = hi
	}
	if got := benchBucket(int64(time.Hour)); got < 0 {
		t.Errorf("an hour is bucket %d", got)
	}
}

func TestBenchHistogramQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		gen  func() time.Duration
	}{
		{"constant", func() time.Duration { return 3 * time.Millisecond }},
		{"small exact", func() time.Duration { return time.Duration(r.IntN(256)) }},
		{"uniform", func() time.Duration { return time.Duration(r.Int64N(int64(50 * time.Millisecond))) }},
		{"long tail", func() time.Duration { return time.Duration(r.ExpFloat64() * float64(2*time.Millisecond)) }},
		{"two modes", func() time.Duration {
			if r.IntN(10) == 0 {
				return 800*time.Millisecond + time.Duration(r.IntN(1e6))
			}
			return time.Millisecond + time.Duration(r.IntN(1e5))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var all []time.Duration
			parts := make([]benchHistogram, 4) // as workers, merged
			for i := range 20011 {
				d := tt.gen()
				all = append(all, d)
				parts[i%4].add(d)
			}
			var h benchHistogram
			for i := range parts {
				h.merge(&parts[i])
			}
			slices.Sort(all)
			for _, q := range []float64{0, 0.5, 0.95, 0.99, 0.999, 1} {
				rank := max(int(float64(len(all))*q+0.9999999), 1) // nearest rank, 1-based
				exact, got := all[rank-1], h.quantile(q)
				if diff := float64(got - exact); diff > 0.01*float64(exact) || -diff > 0.01*float64(exact) {
					t.Errorf("quantile %v: %v, exact %v: more than 1%% off", q, got, exact)
				}
			}
		})
	}
	var empty benchHistogram
	if got := empty.quantile(0.5); got != 0 {
		t.Errorf("median of nothing: %v", got)
	}
}

func TestBenchStatsSamples(t *testing.T) {
	var a, b benchStats
	for _, msg := range []string{"500 internal: x", "500 internal: x", "404 not_found: y"} {
		a.record(0, 0, &benchFailure{msg: msg})
	}
	a.record(1, time.Millisecond, nil)
	b.record(0, 0, &benchFailure{msg: "503 unavailable: z"})
	b.record(0, 0, &benchFailure{msg: "502 Bad Gateway: w"})
	a.merge(&b)
	want := []string{"500 internal: x", "404 not_found: y", "503 unavailable: z"}
	if a.requests != 6 || a.errors != 5 || a.items != 1 || a.hist.n != 1 || !slices.Equal(a.samples, want) {
		t.Errorf("requests %d errors %d items %d timed %d samples %q; want 6 5 1 1 %q",
			a.requests, a.errors, a.items, a.hist.n, a.samples, want)
	}
}

func TestBenchPeopleGenerator(t *testing.T) {
	var buf bytes.Buffer
	writeBenchPeople(&buf, "r1", 0, 5000, "")
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 5000 {
		t.Fatalf("%d lines, want 5000", len(lines))
	}
	phone := regexp.MustCompile(`^\+4791\d{6}$`)
	postal := regexp.MustCompile(`^\d{4}$`)
	emails := map[string]bool{}
	for i, line := range lines {
		var p benchPerson
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("line %d %s: %v", i+1, line, err)
		}
		if p != benchPersonAt("r1", int64(i)) {
			t.Fatalf("line %d is not person %d", i+1, i)
		}
		_, dateErr := time.Parse(time.DateOnly, p.BirthDate)
		if emails[p.Email] || p.Email != fmt.Sprintf("bench-r1-%d@example.com", i) || !phone.MatchString(p.Phone) ||
			dateErr != nil || p.GivenName == "" || p.FamilyName == "" || p.Language != "nb" || p.Address.Country != "NO" ||
			!postal.MatchString(p.Address.PostalCode) || p.Address.City == "" || p.Address.Street == "" {
			t.Fatalf("line %d: %s", i+1, line)
		}
		emails[p.Email] = true
		if strings.Contains(line, "national_id") {
			t.Fatalf("line %d has a national id: %s", i+1, line)
		}
	}
	if benchPersonAt("r1", 7) != benchPersonAt("r1", 7) || benchPersonAt("r1", 7).Email == benchPersonAt("r2", 7).Email {
		t.Error("the generator is not a function of run and index")
	}
	if benchPersonAt("r1", 1).FamilyName == benchPersonAt("r1", 2).FamilyName &&
		benchPersonAt("r1", 2).FamilyName == benchPersonAt("r1", 3).FamilyName {
		t.Error("neighbours share their family name: the lists are not spread")
	}
}

func TestBenchPeopleSpans(t *testing.T) {
	ps := &benchPeople{run: "r"}
	lo := ps.claim(10)                       // 0–9
	ps.addImported(lo, 10, []int{10, 1, 5})  // not 0, 4, 9
	ps.addCreated(42, ps.claim(1))           // 10
	ps.addImported(ps.claim(3), 3, []int{2}) // 11, not 12, 13
	want := map[string]bool{}
	for _, i := range []int{1, 2, 3, 5, 6, 7, 8, 10, 11, 13} {
		want[benchEmail("r", int64(i))] = true
	}
	if ps.emailCount() != int64(len(want)) || ps.idCount() != 1 || ps.randomID() != 42 {
		t.Fatalf("%d e-mails, %d ids; want %d and 1 (42)", ps.emailCount(), ps.idCount(), len(want))
	}
	seen := map[string]bool{}
	for range 2000 {
		e := ps.randomEmail()
		if !want[e] {
			t.Fatalf("randomEmail gave %q, which was not made", e)
		}
		seen[e] = true
	}
	if len(seen) != len(want) {
		t.Errorf("randomEmail gave %d of the %d e-mails", len(seen), len(want))
	}
}

func TestBenchThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 21300: "21,300", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := benchThousands(n); got != want {
			t.Errorf("benchThousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// benchTestToken is the token the fake server accepts.
const benchTestToken = tillit.TokenPrefix + "benchtestsecret"

// runBenchCmd runs `tillit bench` with TILLIT_TOKEN set to token ("" for
// none) and returns the exit status and what it wrote.
func runBenchCmd(ctx context.Context, token string, args ...string) (code int, stdout, stderr string) {
	var out, errOut syncBuffer
	p := &proc{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, clock: tillit.SystemClock{},
		getenv: func(k string) string {
			if k == "TILLIT_TOKEN" {
				return token
			}
			return ""
		}}
	code = p.exitCode(p.dispatch(ctx, "", commands(), append([]string{"bench"}, args...)))
	return code, out.String(), errOut.String()
}

func TestBenchUsage(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	url := "https://127.0.0.1:1"
	tests := []struct {
		name   string
		token  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"help", "", []string{"-h"}, 0, "DATA/tls/cert.pem", ""},
		{"no token", "", []string{"--url", url}, 2, "", "tillit token create --tenant SLUG --role caseworker"},
		{"not a token", "hunter2", []string{"--url", url}, 2, "", "TILLIT_TOKEN does not hold an API token"},
		{"no url", benchTestToken, nil, 2, "", "--url is required"},
		{"plain http", benchTestToken, []string{"--url", "http://127.0.0.1:8080"}, 2, "", "is not the https:// URL"},
		{"unknown op", benchTestToken, []string{"--url", url, "--ops", "get,delete"}, 2, "", `unknown op "delete"`},
		{"no clients", benchTestToken, []string{"--url", url, "--clients", "0"}, 2, "", "--clients"},
		{"no duration", benchTestToken, []string{"--url", url, "--duration", "0s"}, 2, "", "--duration"},
		{"ca and insecure", benchTestToken, []string{"--url", url, "--ca", junk, "--insecure"}, 2, "", "use one of them"},
		{"bad ca", benchTestToken, []string{"--url", url, "--ca", junk}, 2, "", "no PEM certificate"},
		{"missing token file", "", []string{"--url", url, "--token-file", filepath.Join(dir, "nope")}, 2, "", "--token-file"},
		{"no server", benchTestToken, []string{"--url", url, "--insecure"}, 1, "", "/api/v1/me"},
		{"help of rights", "", []string{"-h"}, 0, "--role privacy --name bench --sensitive", ""},
		{"unknown group", benchTestToken, []string{"--url", url, "--ops", "rights,everything"}, 2, "", "or the groups register, rights and all"},
		{"no report records", benchTestToken, []string{"--url", url, "--report-records", "-1"}, 2, "", "--report-records"},
		{"no erase size", benchTestToken, []string{"--url", url, "--erase-size", "0"}, 2, "", "--erase-size"},
		{"no retention size", benchTestToken, []string{"--url", url, "--retention-size", "0"}, 2, "", "--retention-size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runBenchCmd(context.Background(), tt.token, tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
					code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			}
			if strings.Contains(stdout+stderr, "hunter2") || strings.Contains(stdout+stderr, benchTestToken) {
				t.Error("the token was printed")
			}
		})
	}
}

func TestBenchTokenFile(t *testing.T) {
	dir := t.TempDir()
	fs := (&proc{}).flagSet("bench", "", "")
	for name, content := range map[string]string{
		"raw":  benchTestToken + "\n",
		"json": `{"id": 3, "name": "bench", "tenant": "acme", "token": "` + benchTestToken + `"}`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := benchToken(fs, func(string) string { return "tillit_fromenv" }, path)
		if err != nil || got != benchTestToken {
			t.Errorf("%s: %q, %v; want the token of the file", name, got, err)
		}
	}
}

// benchCAFile writes the certificate of srv to a PEM file and returns its
// path.
func benchCAFile(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cert.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// benchJSON is the --out file as a client of it reads it, by the names of
// its fields.
type benchJSON struct {
	URL       string    `json:"url"`
	Clients   int       `json:"clients"`
	DurationS float64   `json:"duration_s"`
	StartedAt time.Time `json:"started_at"`
	Go        string    `json:"go"`
	CPUs      int       `json:"cpus"`
	Results   []struct {
		Op           string    `json:"op"`
		Requests     int64     `json:"requests"`
		Errors       int64     `json:"errors"`
		Items        int64     `json:"items"`
		PerSecond    float64   `json:"per_second"`
		P50          float64   `json:"p50_ms"`
		P95          float64   `json:"p95_ms"`
		P99          float64   `json:"p99_ms"`
		ErrorSamples *[]string `json:"error_samples"`
	} `json:"results"`
	Interrupted bool `json:"interrupted"`
}

// mustReadJSON decodes the JSON file at path into v.
func mustReadJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
}

// mustBenchJSON reads the --out file at path.
func mustBenchJSON(t *testing.T, path string) benchJSON {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep benchJSON
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	if bytes.Contains(data, []byte(benchTestToken)) {
		t.Error("the JSON file holds the token")
	}
	return rep
}

func TestBenchAllOps(t *testing.T) {
	fake := newBenchFake(t, false)
	out := filepath.Join(t.TempDir(), "bench.json")
	code, stdout, stderr := runBenchCmd(context.Background(), benchTestToken, "--url", fake.srv.URL,
		"--duration", "300ms", "--clients", "4", "--ops", "all", "--population", "2000", "--import-size", "500",
		"--report-records", "20", "--erase-size", "40", "--retention-size", "50",
		"--out", out, "--ca", benchCAFile(t, fake.srv))
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	for _, op := range benchAllOps {
		clients := "4"
		if op == "import" || op == "retention" { // one stream, or one run of the job, whatever --clients says
			clients = "1"
		}
		if !regexp.MustCompile(`(?m)^` + op + `\s+` + clients + `\s+[1-9]\d*\s+0\s`).MatchString(stdout) {
			t.Errorf("the table has no line of %s with %s clients, requests and no errors", op, clients)
		}
	}
	if !strings.Contains(stderr, "population: 2000 people in") || strings.Contains(stdout+stderr, benchTestToken) {
		t.Errorf("stderr: %s", stderr)
	}
	rep := mustBenchJSON(t, out)
	if rep.URL != fake.srv.URL || rep.Clients != 4 || rep.DurationS != 0.3 || rep.StartedAt.IsZero() ||
		rep.Go == "" || rep.CPUs < 1 || rep.Interrupted || len(rep.Results) != len(benchAllOps) {
		t.Fatalf("report: %+v", rep)
	}
	for i, r := range rep.Results {
		if r.Op != benchAllOps[i] || r.Requests == 0 || r.Errors != 0 || r.Items == 0 || r.PerSecond <= 0 ||
			r.P50 <= 0 || r.P50 > r.P95 || r.P95 > r.P99 || r.ErrorSamples == nil || len(*r.ErrorSamples) != 0 {
			t.Errorf("result %d: %+v", i, r)
		}
	}
	// Without keep-alive there would be a connection a request, tens of
	// thousands. With it a few more than 4: a client that asks again before
	// the transport took its connection back dials one, which is closed
	// when the idle pool is full; eleven phases give that a few chances.
	if conns := fake.conns.Load(); conns > 4*4 {
		t.Errorf("%d connections for 4 clients: keep-alive does not hold", conns)
	}
}

func TestBenchErrors(t *testing.T) {
	fake := newBenchFake(t, true)
	out := filepath.Join(t.TempDir(), "bench.json")
	code, stdout, stderr := runBenchCmd(context.Background(), benchTestToken, "--url", fake.srv.URL,
		"--duration", "200ms", "--clients", "2", "--ops", "create,get", "--out", out, "--ca", benchCAFile(t, fake.srv))
	if code != 1 || !strings.Contains(stderr, "every request of get failed") ||
		!strings.Contains(stdout, "errors of get") || !strings.Contains(stdout, "500 internal: boom") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	rep := mustBenchJSON(t, out)
	if len(rep.Results) != 2 || rep.Results[0].Errors != 0 || rep.Results[1].Errors == 0 ||
		rep.Results[1].Errors != rep.Results[1].Requests || len(*rep.Results[1].ErrorSamples) != 1 {
		t.Errorf("report: %+v", rep)
	}
}

func TestBenchInterrupt(t *testing.T) {
	fake := newBenchFake(t, false)
	out := filepath.Join(t.TempDir(), "bench.json")
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	start := time.Now()
	code, stdout, stderr := runBenchCmd(ctx, benchTestToken, "--url", fake.srv.URL, "--duration", "1m",
		"--clients", "2", "--ops", "create,get", "--out", out, "--ca", benchCAFile(t, fake.srv))
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Ctrl-C took %v to stop the bench", took)
	}
	if code != 1 || !strings.Contains(stderr, "interrupted") || !regexp.MustCompile(`(?m)^create\s+2\s+[1-9]`).MatchString(stdout) ||
		strings.Contains(stdout, "\nget ") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if rep := mustBenchJSON(t, out); !rep.Interrupted || len(rep.Results) != 1 || rep.Results[0].Errors != 0 {
		t.Errorf("report: %+v", rep)
	}
}

// benchFake is an in-memory stand-in for the people API of tillit: a test
// double for the machinery of the bench (TLS, keep-alive, the phases, the
// report), which checks the requests roughly as the server will. It is not
// the server; the end-to-end run of the bench against `tillit serve` comes
// with the people API.
type benchFake struct {
	srv       *httptest.Server
	failGet   bool         // answer 500 to GET /api/v1/people/{id}
	role      tillit.Role  // of the token; privacy unless set
	sensitive bool         // the token may erase; true unless set
	conns     atomic.Int64 // connections accepted

	mu         sync.Mutex
	people     []*benchFakePerson // id i+1 at i
	byEmail    map[string]*benchFakePerson
	records    int
	policy     *benchPolicy // the retention policy
	policySets int          // times it was saved

	othersErase int  // the retention job erases so many fewer than are due: another run took them
	reviewOnly  bool // the retention job erases no one
}

// benchFakePerson is a person of the fake.
type benchFakePerson struct {
	ID int64 `json:"id"`
	benchPerson
	records int  // made for the person
	erased  bool // by DELETE or the retention job
}

// newBenchFake starts a fake on a TLS test server, closed at the end of t.
func newBenchFake(t *testing.T, failGet bool) *benchFake {
	f := &benchFake{failGet: failGet, byEmail: map[string]*benchFakePerson{}, role: tillit.RolePrivacy, sensitive: true}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/me", func(w http.ResponseWriter, r *http.Request) {
		benchFakeJSON(w, 200, map[string]any{"kind": "token", "role": f.role, "permissions": f.role.Permissions(),
			"tenant": map[string]any{"slug": "bench"}})
	})
	f.rightsRoutes(mux)
	mux.HandleFunc("POST /api/v1/people", f.create)
	mux.HandleFunc("GET /api/v1/people/{id}", f.get)
	mux.HandleFunc("PATCH /api/v1/people/{id}", f.update)
	mux.HandleFunc("GET /api/v1/people", f.list)
	mux.HandleFunc("POST /api/v1/people/lookup", f.lookup)
	mux.HandleFunc("POST /api/v1/people/import", f.importPeople)
	mux.HandleFunc("POST /api/v1/people/{id}/records", f.record)
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer "+benchTestToken:
			benchFakeProblem(w, 401, "unauthenticated", "no valid token")
		case r.ProtoMajor != 1 || r.TLS == nil:
			benchFakeProblem(w, 400, "invalid", "not HTTP/1.1 over TLS")
		default:
			mux.ServeHTTP(w, r)
		}
	}))
	f.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.conns.Add(1)
		}
	}
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func benchFakeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func benchFakeProblem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "code": code, "detail": detail})
}

// add validates p as a Norwegian tenant would and stores it; the error is
// the reason of a refusal.
func (f *benchFake) add(p benchPerson) (*benchFakePerson, error) {
	switch {
	case !regexp.MustCompile(`^\+47[49]\d{7}$`).MatchString(p.Phone):
		return nil, fmt.Errorf("phone: %q is not a Norwegian mobile number", p.Phone)
	case p.Email == "" || p.Language != "nb" || p.Address.Country != "NO":
		return nil, fmt.Errorf("email, language or country missing")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byEmail[strings.ToLower(p.Email)] != nil {
		return nil, fmt.Errorf("email: a person with this e-mail exists")
	}
	fp := &benchFakePerson{ID: int64(len(f.people) + 1), benchPerson: p}
	f.people = append(f.people, fp)
	f.byEmail[strings.ToLower(p.Email)] = fp
	return fp, nil
}

// decode decodes the body of r, of media type ctype, into v strictly.
func benchFakeDecode(w http.ResponseWriter, r *http.Request, ctype string, v any) bool {
	if r.Header.Get("Content-Type") != ctype {
		benchFakeProblem(w, 415, "invalid", "want "+ctype)
		return false
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		benchFakeProblem(w, 400, "invalid", err.Error())
		return false
	}
	return true
}

// person returns the person of the path's id, or answers 404.
func (f *benchFake) person(w http.ResponseWriter, r *http.Request) *benchFakePerson {
	id, _ := strconv.Atoi(r.PathValue("id"))
	f.mu.Lock()
	defer f.mu.Unlock()
	if id < 1 || id > len(f.people) || f.people[id-1].erased {
		benchFakeProblem(w, 404, "not_found", "no such person")
		return nil
	}
	return f.people[id-1]
}

func (f *benchFake) create(w http.ResponseWriter, r *http.Request) {
	var p benchPerson
	if !benchFakeDecode(w, r, "application/json", &p) {
		return
	}
	fp, err := f.add(p)
	if err != nil {
		benchFakeProblem(w, 400, "invalid", err.Error())
		return
	}
	benchFakeJSON(w, 201, fp)
}

func (f *benchFake) get(w http.ResponseWriter, r *http.Request) {
	if f.failGet {
		benchFakeProblem(w, 500, "internal", "boom")
		return
	}
	if p := f.person(w, r); p != nil {
		f.mu.Lock()
		c := *p // an update may change p meanwhile
		f.mu.Unlock()
		benchFakeJSON(w, 200, &c)
	}
}

func (f *benchFake) update(w http.ResponseWriter, r *http.Request) {
	var patch struct {
		FamilyName string `json:"family_name"`
	}
	if !benchFakeDecode(w, r, "application/merge-patch+json", &patch) {
		return
	}
	if p := f.person(w, r); p != nil {
		f.mu.Lock()
		p.FamilyName = patch.FamilyName
		c := *p
		f.mu.Unlock()
		benchFakeJSON(w, 200, &c)
	}
}

func (f *benchFake) list(w http.ResponseWriter, r *http.Request) {
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	from, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Query().Get("cursor"), "c"))
	if err != nil || limit < 1 || limit > 1000 {
		benchFakeProblem(w, 400, "invalid", "limit")
		return
	}
	f.mu.Lock()
	page := map[string]any{"people": slices.Clone(f.people[min(from, len(f.people)):min(from+limit, len(f.people))])}
	if from+limit < len(f.people) {
		page["next_cursor"] = fmt.Sprintf("c%d", from+limit)
	}
	f.mu.Unlock()
	benchFakeJSON(w, 200, page)
}

func (f *benchFake) lookup(w http.ResponseWriter, r *http.Request) {
	var l struct {
		Email string `json:"email"`
	}
	if !benchFakeDecode(w, r, "application/json", &l) {
		return
	}
	f.mu.Lock()
	found := []*benchFakePerson{}
	if p := f.byEmail[strings.ToLower(l.Email)]; p != nil {
		found = append(found, p)
	}
	f.mu.Unlock()
	benchFakeJSON(w, 200, map[string]any{"people": found})
}

func (f *benchFake) importPeople(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") != "application/x-ndjson" {
		benchFakeProblem(w, 415, "invalid", "want application/x-ndjson")
		return
	}
	type refusal struct {
		Line   int    `json:"line"`
		Reason string `json:"reason"`
	}
	created, refused := 0, []refusal{}
	sc := bufio.NewScanner(r.Body)
	for line := 1; sc.Scan(); line++ {
		var p benchPerson
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		err := dec.Decode(&p)
		if err == nil {
			_, err = f.add(p)
		}
		if err != nil {
			refused = append(refused, refusal{line, err.Error()})
			continue
		}
		created++
	}
	benchFakeJSON(w, 200, map[string]any{"created": created, "refused": refused, "imported": true})
}

func (f *benchFake) record(w http.ResponseWriter, r *http.Request) {
	var rec struct {
		Category, Title, Body string
		OccurredAt            time.Time `json:"occurred_at"`
	}
	if !benchFakeDecode(w, r, "application/json", &rec) {
		return
	}
	if rec.Category == "" || rec.Title == "" || rec.OccurredAt.IsZero() {
		benchFakeProblem(w, 400, "invalid", "category, title and occurred_at are required")
		return
	}
	p := f.person(w, r)
	if p == nil {
		return
	}
	f.mu.Lock()
	p.records++
	f.records++
	id := f.records
	f.mu.Unlock()
	benchFakeJSON(w, 201, map[string]any{"id": id})
}

func TestBenchUntrustedCertificate(t *testing.T) {
	fake := newBenchFake(t, false)
	code, _, stderr := runBenchCmd(context.Background(), benchTestToken, "--url", fake.srv.URL, "--out", "")
	if code != 1 || !strings.Contains(stderr, "trust the server's certificate with --ca") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	code, stdout, stderr := runBenchCmd(context.Background(), benchTestToken, "--url", fake.srv.URL, "--insecure",
		"--ops", "create", "--duration", "50ms", "--clients", "1", "--out", "")
	if code != 0 || !strings.Contains(stdout, "NOT verified") {
		t.Errorf("--insecure: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

func TestBenchTable(t *testing.T) {
	var out bytes.Buffer
	printBenchTable(&out, []benchResult{
		{Op: "import", Clients: 2, Requests: 3, Items: 1500, PerSecond: 1234.56, RequestsPerSecond: 2.5,
			P50: 1.234, P95: 5.5, P99: 7, Refused: 2, RefusedSamples: []string{"phone: not a number"}, ErrorSamples: []string{}},
		{Op: "get", Clients: 2, Requests: 10, Errors: 10, ErrorSamples: []string{"500 internal: boom"}, Interrupted: true},
		{Op: "report-pdf", Clients: 2, Requests: 40, Items: 40, PerSecond: 20, RequestsPerSecond: 20, P50: 90, P95: 120, P99: 130},
		{Op: "retention", Clients: 1, Requests: 1, Items: 100000, PerSecond: 24000, RequestsPerSecond: 0.24, ElapsedS: 4.166667,
			P50: 4166.666, P95: 4166.666, P99: 4166.666},
	})
	want := `op         clients  requests  errors       per second    p50 ms    p95 ms    p99 ms
import           2         3       0    1234.6 people      1.23      5.50      7.00
get              2        10      10              0.0         -         -         -
report-pdf       2        40       0             20.0     90.00    120.00    130.00
retention        1         1       0   24000.0 people   4166.67   4166.67   4166.67
note: import: per second counts people created (1500 in all); the requests ran at 2.50/s
note: import: the server refused 2 lines
note: get: interrupted
note: retention: per second counts people erased (100000 in all) by 1 run(s) of the job in 4.17s

lines refused by import (2):
  phone: not a number

errors of get (10 of 10 requests):
  500 internal: boom
`
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestBenchProgress(t *testing.T) {
	var errOut syncBuffer
	b := &bench{p: &proc{stderr: &errOut}, progressEvery: 10 * time.Millisecond}
	var done atomic.Int64
	done.Store(350)
	stop := b.progress("population", "people", 1000, &done)
	time.Sleep(35 * time.Millisecond)
	stop()
	if !regexp.MustCompile(`(?m)^population: 350/1000 people, [\d,]+/s$`).MatchString(errOut.String()) {
		t.Errorf("progress: %q", errOut.String())
	}
}
