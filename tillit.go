// Package tillit is the domain of the tillit personal data platform: its
// types, the services other packages implement, error codes and context
// helpers. It imports only the standard library; every other package
// depends inward on it.
package tillit

import "time"

// Clock tells the time. Everything that needs the time takes a Clock, so that
// timeouts, retention and deadlines can be tested.
type Clock interface {
	Now() time.Time
}

// SystemClock is the Clock of the machine, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// Version is the version of tillit, set at build time with
// -ldflags "-X tillit.Version=…".
var Version = "dev"
