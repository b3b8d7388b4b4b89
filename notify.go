package tillit

import "context"

// Mail is one e-mail message. Bodies are plain text; links carry one-time
// tokens only in the fragment-free path of a tillit page, never personal
// values.
type Mail struct {
	To      string
	Subject string
	Body    string
}

// Mailer sends e-mail through the configured SMTP server.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// SMS is one text message.
type SMS struct {
	To   string // E.164
	Body string
}

// SMSSender sends text messages through an SMS operator (a sub-processor).
type SMSSender interface {
	SendSMS(ctx context.Context, m SMS) error
}
