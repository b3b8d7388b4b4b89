package keyring

import (
	"context"
	"errors"
)

// The purposes of tenant keys.
const (
	PurposeWrap  = "wrap"  // wraps the tenant's person keys; versioned, rotated
	PurposeIndex = "index" // derives the tenant's blind-index keys; one version, never rotated (indexes would change)
)

// TenantKeyRow is a tenant key as the key store keeps it: wrapped by a
// version of the root key.
type TenantKeyRow struct {
	TenantID    int64
	Purpose     string
	Version     uint32
	RootVersion uint32
	Wrapped     []byte
}

// PersonKeyRow is a person's key as the key store keeps it: wrapped by a
// version of the tenant's wrap key.
type PersonKeyRow struct {
	TenantID int64
	PersonID int64
	Version  uint32 // of the tenant key that wraps it
	Wrapped  []byte
}

// ErrNoKey is returned for a key the store does not hold: a person who was
// never created, or whose key was destroyed (erased for good).
var ErrNoKey = errors.New("keyring: no such key")

// ErrRootKeyMissing is returned when a tenant key is wrapped by a version
// of the root key that the root key file does not hold.
var ErrRootKeyMissing = errors.New("keyring: a version of the root key is missing from the root key file")

// ErrKeyExists is returned by AddTenantKey when the version exists.
var ErrKeyExists = errors.New("keyring: the key exists already")

// Store keeps wrapped keys, apart from the data they seal: its own SQLite
// file or PostgreSQL database. It never sees a plaintext key.
type Store interface {
	// TenantKeys returns every tenant key of a tenant (all purposes and
	// versions); none is not an error.
	TenantKeys(ctx context.Context, tenantID int64) ([]TenantKeyRow, error)
	// AddTenantKey stores a new tenant key; ErrKeyExists if its purpose
	// and version are taken (another process won the race).
	AddTenantKey(ctx context.Context, k TenantKeyRow) error
	// TenantKeysBefore returns up to limit tenant keys of any tenant
	// wrapped by a root version older than rootVersion.
	TenantKeysBefore(ctx context.Context, rootVersion uint32, limit int) ([]TenantKeyRow, error)
	// RewrapTenantKey replaces a tenant key's wrapping if it is still
	// wrapped by oldRoot.
	RewrapTenantKey(ctx context.Context, k TenantKeyRow, oldRoot uint32) error

	// PersonKeys returns the keys of the given people of a tenant; people
	// without a key are missing from the map.
	PersonKeys(ctx context.Context, tenantID int64, personIDs []int64) (map[int64]PersonKeyRow, error)
	// InsertPersonKeys stores new person keys in one transaction.
	InsertPersonKeys(ctx context.Context, keys []PersonKeyRow) error
	// DeletePersonKeys destroys person keys and reports how many there were.
	DeletePersonKeys(ctx context.Context, tenantID int64, personIDs []int64) (int, error)
	// CountPersonKeysBefore counts the person keys of a tenant wrapped by a
	// tenant key version older than version.
	CountPersonKeysBefore(ctx context.Context, tenantID int64, version uint32) (int, error)
	// PersonKeysBefore returns up to limit person keys of a tenant wrapped
	// by a version older than version, in order of person id after after.
	PersonKeysBefore(ctx context.Context, tenantID int64, version uint32, after int64, limit int) ([]PersonKeyRow, error)
	// RewrapPersonKeys replaces the wrapping of person keys in one
	// transaction, each only if it is still wrapped by the version it was
	// read with (a key destroyed meanwhile stays destroyed).
	RewrapPersonKeys(ctx context.Context, keys []PersonKeyRow, oldVersions []uint32) error
}
