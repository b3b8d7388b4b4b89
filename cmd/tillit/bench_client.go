package main

// The HTTP client of tillit bench.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

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
	took, data, err := c.doRaw(ctx, method, path, "application/json", ctype, body, want)
	if err == nil && out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return took, &benchFailure{status: want, msg: fmt.Sprintf("%d with an unreadable body: %v", want, err)}
		}
	}
	return took, err
}

// doRaw makes a request asking for the media type accept and returns the
// body of the answer if its status is want. The latency is from sending the
// request to having read the whole answer.
func (c *benchClient) doRaw(ctx context.Context, method, path, accept, ctype string, body []byte, want int) (time.Duration, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", accept)
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
		return time.Since(start), nil, &benchFailure{msg: err.Error(), err: err}
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	switch {
	case err != nil:
		return took, nil, &benchFailure{msg: "reading the answer: " + err.Error(), err: err}
	case resp.StatusCode != want:
		return took, nil, &benchFailure{status: resp.StatusCode, msg: benchProblem(resp.StatusCode, data)}
	}
	return took, data, nil
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
