package keyring

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"tillit"
)

// Config is what a Keyring needs.
type Config struct {
	// Roots returns the root keys; it is called again when a tenant key
	// names a root version the keyring has not seen (another process
	// rotated the root key).
	Roots func() (*RootKeys, error)
	Store Store
	Clock tillit.Clock
	// CacheSize bounds how many unwrapped person keys are kept in memory;
	// 0 means 20,000. CacheTTL is how long one is kept; 0 means 5 minutes.
	CacheSize int
	CacheTTL  time.Duration
	// TenantTTL is how long a tenant's unwrapped keys are kept before they
	// are read again (to see a rotation by another process); 0 means 30 s.
	TenantTTL time.Duration
}

// Keyring is the key hierarchy: root key → tenant keys (versioned, wrapped
// by the root key) → one random key per person (wrapped by the tenant key),
// the wrapped keys kept in a Store apart from the data. It is safe for
// concurrent use.
type Keyring struct {
	cfg    Config
	people *lru

	mu      sync.Mutex
	roots   *RootKeys
	tenants map[int64]*tenantKeys
}

// tenantKeys are a tenant's unwrapped keys.
type tenantKeys struct {
	wrap    map[uint32]*[KeySize]byte
	current uint32
	index   *[KeySize]byte
	loaded  time.Time

	indexMu sync.Mutex
	indexes map[string]*[KeySize]byte // per attribute, derived from index
}

// New returns a keyring. It reads the root keys once.
func New(cfg Config) (*Keyring, error) {
	if cfg.Roots == nil || cfg.Store == nil {
		return nil, errors.New("keyring: Config.Roots and Config.Store are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = tillit.SystemClock{}
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 20000
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 5 * time.Minute
	}
	if cfg.TenantTTL == 0 {
		cfg.TenantTTL = 30 * time.Second
	}
	roots, err := cfg.Roots()
	if err != nil {
		return nil, err
	}
	return &Keyring{cfg: cfg, roots: roots, tenants: map[int64]*tenantKeys{}, people: newLRU(cfg.CacheSize)}, nil
}

// PersonKey seals and opens the values of one person. Each value is bound
// to its place: the tenant, the person and the attribute (or record field),
// so a value copied to another place does not open there.
type PersonKey struct {
	TenantID, PersonID int64
	gcm                cipher.AEAD
}

// Seal seals plaintext for place (such as "email", "attributes.diagnosis"
// or "record:12:title").
func (k *PersonKey) Seal(place string, plaintext []byte) []byte {
	return sealWith(k.gcm, plaintext, k.aad(place))
}

// Open opens a value sealed for place. Errors wrap ErrOpen.
func (k *PersonKey) Open(place string, sealed []byte) ([]byte, error) {
	return openWith(k.gcm, sealed, k.aad(place))
}

func (k *PersonKey) aad(place string) []byte {
	b := make([]byte, 0, 48+len(place))
	b = append(b, "tillit/v1/t:"...)
	b = strconv.AppendInt(b, k.TenantID, 10)
	b = append(b, "/p:"...)
	b = strconv.AppendInt(b, k.PersonID, 10)
	b = append(b, '/')
	return append(b, place...)
}

func newPersonKey(tenantID, personID int64, key *[KeySize]byte) (*PersonKey, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	return &PersonKey{TenantID: tenantID, PersonID: personID, gcm: gcm}, nil
}

// NewPersonKeys makes a new random key for each person, stores them wrapped
// by the tenant's current key, and returns them. It must be called before
// the people's data is written, so that no sealed value is ever without
// its key.
func (k *Keyring) NewPersonKeys(ctx context.Context, tenantID int64, personIDs []int64) ([]*PersonKey, error) {
	tk, err := k.tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	rows := make([]PersonKeyRow, len(personIDs))
	keys := make([]*PersonKey, len(personIDs))
	for i, id := range personIDs {
		var raw [KeySize]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return nil, err
		}
		keys[i], err = newPersonKey(tenantID, id, &raw)
		if err != nil {
			return nil, err
		}
		rows[i] = PersonKeyRow{TenantID: tenantID, PersonID: id, Version: tk.current,
			Wrapped: wrapPersonKey(tk.wrap[tk.current], tk.current, tenantID, id, &raw)}
	}
	if err := k.cfg.Store.InsertPersonKeys(ctx, rows); err != nil {
		return nil, err
	}
	now := k.cfg.Clock.Now()
	for _, pk := range keys {
		k.people.put(pk, now.Add(k.cfg.CacheTTL))
	}
	return keys, nil
}

// PersonKey returns the key of a person. ErrNoKey: the person has no key
// (never created, or erased).
func (k *Keyring) PersonKey(ctx context.Context, tenantID, personID int64) (*PersonKey, error) {
	if pk := k.people.get(tenantID, personID, k.cfg.Clock.Now()); pk != nil {
		return pk, nil
	}
	m, err := k.PersonKeys(ctx, tenantID, []int64{personID})
	if err != nil {
		return nil, err
	}
	pk := m[personID]
	if pk == nil {
		return nil, ErrNoKey
	}
	return pk, nil
}

// PersonKeys returns the keys of several people of a tenant; people
// without a key are missing from the map.
func (k *Keyring) PersonKeys(ctx context.Context, tenantID int64, personIDs []int64) (map[int64]*PersonKey, error) {
	now := k.cfg.Clock.Now()
	out := make(map[int64]*PersonKey, len(personIDs))
	var missing []int64
	for _, id := range personIDs {
		if pk := k.people.get(tenantID, id, now); pk != nil {
			out[id] = pk
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	rows, err := k.cfg.Store.PersonKeys(ctx, tenantID, missing)
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		pk, err := k.unwrapPersonKey(ctx, row)
		if err != nil {
			return nil, err
		}
		out[row.PersonID] = pk
		k.people.put(pk, now.Add(k.cfg.CacheTTL))
	}
	return out, nil
}

func (k *Keyring) unwrapPersonKey(ctx context.Context, row PersonKeyRow) (*PersonKey, error) {
	tk, err := k.tenant(ctx, row.TenantID)
	if err != nil {
		return nil, err
	}
	wk := tk.wrap[row.Version]
	if wk == nil {
		// Wrapped by a version another process added: read the tenant again.
		k.forgetTenant(row.TenantID)
		if tk, err = k.tenant(ctx, row.TenantID); err != nil {
			return nil, err
		}
		if wk = tk.wrap[row.Version]; wk == nil {
			return nil, fmt.Errorf("keyring: person key of tenant %d wrapped by unknown tenant key version %d", row.TenantID, row.Version)
		}
	}
	raw, err := unwrapPersonKey(wk, row)
	if err != nil {
		return nil, err
	}
	return newPersonKey(row.TenantID, row.PersonID, raw)
}

// DestroyPersonKeys deletes the keys of people: from then on their sealed
// values cannot be opened, here or in any backup of the data. It reports
// how many keys there were.
func (k *Keyring) DestroyPersonKeys(ctx context.Context, tenantID int64, personIDs []int64) (int, error) {
	for _, id := range personIDs {
		k.people.remove(tenantID, id)
	}
	n, err := k.cfg.Store.DeletePersonKeys(ctx, tenantID, personIDs)
	for _, id := range personIDs { // a concurrent read may have cached one meanwhile
		k.people.remove(tenantID, id)
	}
	return n, err
}

// BlindIndex returns the blind index of a normalised value of attr in a
// tenant: a truncated HMAC-SHA256 under a key derived for that tenant and
// attribute alone.
func (k *Keyring) BlindIndex(ctx context.Context, tenantID int64, attr, normalized string) ([]byte, error) {
	tk, err := k.tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	tk.indexMu.Lock()
	key := tk.indexes[attr]
	if key == nil {
		key = DeriveKey(tk.index, "blind-index/"+attr)
		tk.indexes[attr] = key
	}
	tk.indexMu.Unlock()
	return BlindIndex(key, normalized), nil
}

// tenant returns a tenant's unwrapped keys, creating them on first use.
func (k *Keyring) tenant(ctx context.Context, tenantID int64) (*tenantKeys, error) {
	now := k.cfg.Clock.Now()
	k.mu.Lock()
	tk := k.tenants[tenantID]
	k.mu.Unlock()
	if tk != nil && now.Sub(tk.loaded) < k.cfg.TenantTTL {
		return tk, nil
	}
	tk, err := k.loadTenant(ctx, tenantID, now)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.tenants[tenantID] = tk
	k.mu.Unlock()
	return tk, nil
}

func (k *Keyring) forgetTenant(tenantID int64) {
	k.mu.Lock()
	delete(k.tenants, tenantID)
	k.mu.Unlock()
}

// loadTenant reads and unwraps a tenant's keys, creating the first wrap
// key and the index key if the tenant has none.
func (k *Keyring) loadTenant(ctx context.Context, tenantID int64, now time.Time) (*tenantKeys, error) {
	for attempt := 0; ; attempt++ {
		rows, err := k.cfg.Store.TenantKeys(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		tk := &tenantKeys{wrap: map[uint32]*[KeySize]byte{}, loaded: now, indexes: map[string]*[KeySize]byte{}}
		for _, row := range rows {
			raw, err := k.unwrapTenantKey(row)
			if err != nil {
				return nil, err
			}
			switch row.Purpose {
			case PurposeWrap:
				tk.wrap[row.Version] = raw
				tk.current = max(tk.current, row.Version)
			case PurposeIndex:
				tk.index = raw
			}
		}
		if tk.current != 0 && tk.index != nil {
			return tk, nil
		}
		if attempt > 0 {
			return nil, fmt.Errorf("keyring: the keys of tenant %d cannot be created", tenantID)
		}
		if tk.current == 0 {
			if _, err := k.addTenantKey(ctx, tenantID, PurposeWrap, 1); err != nil && !errors.Is(err, ErrKeyExists) {
				return nil, err
			}
		}
		if tk.index == nil {
			if _, err := k.addTenantKey(ctx, tenantID, PurposeIndex, 1); err != nil && !errors.Is(err, ErrKeyExists) {
				return nil, err
			}
		}
	}
}

// addTenantKey makes a new random tenant key and stores it wrapped by the
// newest root key.
func (k *Keyring) addTenantKey(ctx context.Context, tenantID int64, purpose string, version uint32) (*[KeySize]byte, error) {
	var raw [KeySize]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	k.mu.Lock()
	rv, root := k.roots.Newest()
	k.mu.Unlock()
	row := TenantKeyRow{TenantID: tenantID, Purpose: purpose, Version: version, RootVersion: rv}
	row.Wrapped = wrapTenantKey(root, row, &raw)
	if err := k.cfg.Store.AddTenantKey(ctx, row); err != nil {
		return nil, err
	}
	return &raw, nil
}

// rootKey returns a version of the root key, reading the root key file
// again if this process has not seen it.
func (k *Keyring) rootKey(v uint32) (*[RootKeySize]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if key, ok := k.roots.Key(v); ok {
		return key, nil
	}
	roots, err := k.cfg.Roots()
	if err != nil {
		return nil, err
	}
	k.roots = roots
	if key, ok := roots.Key(v); ok {
		return key, nil
	}
	return nil, fmt.Errorf("%w: version %d is not there (it holds %d); restore the file from its backup", ErrRootKeyMissing, v, len(roots.keys))
}

func (k *Keyring) unwrapTenantKey(row TenantKeyRow) (*[KeySize]byte, error) {
	root, err := k.rootKey(row.RootVersion)
	if err != nil {
		return nil, err
	}
	return unwrap(DeriveKey(root, "tenant-key-wrap"), row.RootVersion, row.Wrapped, tenantKeyAAD(row))
}

// Wrapped keys carry the version of the key that wrapped them, 4 bytes big
// endian, before the sealed key.

func tenantKeyAAD(row TenantKeyRow) []byte {
	return fmt.Appendf(nil, "tillit/v1/tenant-key/t:%d/%s/v:%d", row.TenantID, row.Purpose, row.Version)
}

func personKeyAAD(tenantID, personID int64) []byte {
	return fmt.Appendf(nil, "tillit/v1/person-key/t:%d/p:%d", tenantID, personID)
}

func wrapTenantKey(root *[RootKeySize]byte, row TenantKeyRow, raw *[KeySize]byte) []byte {
	return wrap(DeriveKey(root, "tenant-key-wrap"), row.RootVersion, raw, tenantKeyAAD(row))
}

func wrapPersonKey(tenantKey *[KeySize]byte, version uint32, tenantID, personID int64, raw *[KeySize]byte) []byte {
	return wrap(tenantKey, version, raw, personKeyAAD(tenantID, personID))
}

func unwrapPersonKey(tenantKey *[KeySize]byte, row PersonKeyRow) (*[KeySize]byte, error) {
	return unwrap(tenantKey, row.Version, row.Wrapped, personKeyAAD(row.TenantID, row.PersonID))
}

func wrap(kek *[KeySize]byte, version uint32, raw *[KeySize]byte, aad []byte) []byte {
	sealed, err := Seal(kek, raw[:], aad)
	if err != nil {
		panic(err) // AES-256 with a 32-byte key cannot fail
	}
	return append(binary.BigEndian.AppendUint32(nil, version), sealed...)
}

func unwrap(kek *[KeySize]byte, version uint32, wrapped, aad []byte) (*[KeySize]byte, error) {
	if len(wrapped) < 4 || binary.BigEndian.Uint32(wrapped) != version {
		return nil, fmt.Errorf("%w: wrapped key does not carry version %d", ErrOpen, version)
	}
	raw, err := Open(kek, wrapped[4:], aad)
	if err != nil {
		return nil, err
	}
	if len(raw) != KeySize {
		return nil, fmt.Errorf("%w: wrapped key has %d bytes", ErrOpen, len(raw))
	}
	return (*[KeySize]byte)(raw), nil
}
