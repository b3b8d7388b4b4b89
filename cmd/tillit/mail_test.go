package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"tillit"
	"tillit/notify/smtptest"
)

// TestInvitationIsMailed runs `user create` with a mail server configured
// — a real SMTP server on loopback — and finds the invitation in the
// person's mailbox, in the tenant's language, with the link the command
// printed.
func TestInvitationIsMailed(t *testing.T) {
	srv := smtptest.NewServer(t)
	dir := t.TempDir()
	cli := &tillitCLI{t: t, args: []string{"--data", dir,
		"--smtp-addr", srv.Addr(), "--smtp-tls", "none", "--smtp-from", "tillit <noreply@localhost>"}}
	var tenant tillit.Tenant
	cli.mustJSON(&tenant, "tenant", "create", "--slug", "acme", "--name", "Acme AS")
	var out bytes.Buffer
	code, errOut := cli.run(context.Background(), &out, "user", "create", "--tenant", "acme", "--email", "kari@acme.example", "--role", "owner")
	if code != 0 || strings.Contains(errOut, "warning") {
		t.Fatalf("user create: exit %d: %s", code, errOut)
	}
	msgs := srv.WaitFor(t, 1, 10*time.Second)
	m := msgs[0]
	if fmt.Sprint(m.EnvelopeTo) != "[kari@acme.example]" || !strings.Contains(m.Subject, "Acme AS") {
		t.Fatalf("mail to %v, subject %q", m.EnvelopeTo, m.Subject)
	}
	link := strings.Index(m.Body, "https://localhost:8443/invite#")
	if link < 0 || !strings.Contains(out.String(), m.Body[link:link+len("https://localhost:8443/invite#")+43]) {
		t.Fatalf("the mail's link is not the printed invitation:\n%s\n%s", m.Body, out.String())
	}
	if !strings.Contains(m.Body, "invitasjon") && !strings.Contains(m.Body, "Invitasjon") { // the tenant's language: nb
		t.Fatalf("the mail is not in Norwegian:\n%s", m.Body)
	}
}
