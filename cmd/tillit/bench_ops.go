package main

// The operations of tillit bench, and the people it makes for them.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// opFunc returns the function that makes one request of op.
func (b *bench) opFunc(op string) benchOpFunc {
	return map[string]benchOpFunc{
		"import": func(ctx context.Context, w *benchWorker) (int, time.Duration, error) {
			return b.importPeople(ctx, w, b.ImportSize)
		},
		"create":     b.createOne,
		"get":        b.getOne,
		"update":     b.updateOne,
		"lookup":     b.lookupOne,
		"list":       b.listPage,
		"record":     b.recordOne,
		"report":     b.reportOne("json"),
		"report-pdf": b.reportOne("pdf"),
		"erase":      b.eraseOne,
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
	return b.importPeopleAt(ctx, w, n, "", true)
}

// importPeopleAt imports n new people collected at collected (RFC 3339; ""
// for now), noting their e-mails for lookup if register.
func (b *bench) importPeopleAt(ctx context.Context, w *benchWorker, n int, collected string, register bool) (int, time.Duration, error) {
	lo := b.people.claim(n)
	w.body.Reset()
	writeBenchPeople(&w.body, b.people.run, lo, n, collected)
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
	if res.Imported && register {
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
	// CollectedAt is set for retention only: two years ago, so that the
	// people are due. Empty: the server's time of the import.
	CollectedAt string `json:"collected_at,omitempty"`
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

// writeBenchPeople writes people lo to lo+n-1 of run to buf as NDJSON,
// collected at collected (RFC 3339) unless it is "".
func writeBenchPeople(buf *bytes.Buffer, run string, lo int64, n int, collected string) {
	enc := json.NewEncoder(buf)
	for i := range int64(n) {
		p := benchPersonAt(run, lo+i)
		p.CollectedAt = collected
		_ = enc.Encode(p) // cannot fail: strings only
	}
}
