package sqldb

import (
	"context"
	"crypto/sha256"
	"time"

	"tillit"
)

// Allow counts one request under key and reports whether it is within
// limit requests per window, and if not, how long until the window ends.
// Windows are fixed, starting at the first request of a key; the counts
// live in the database, so several nodes share them. Only a SHA-256 hash
// of key is stored, but callers should still build keys from addresses or
// ids, never from personal values ("login:ip:192.0.2.7"). Errors:
// EInvalid (limit or window not positive), EUnavailable.
func (db *DB) Allow(ctx context.Context, key string, limit int, window time.Duration) (ok bool, retryAfter time.Duration, err error) {
	if limit < 1 || window <= 0 {
		return false, 0, tillit.Errorf(tillit.EInvalid, "a rate limit needs a positive limit and window")
	}
	err = db.withTx(ctx, func(tx *Tx) error {
		ok, retryAfter, err = tx.allow(ctx, key, limit, window)
		return err
	})
	return ok, retryAfter, err
}

// allow counts a request under key in tx; see Allow.
func (tx *Tx) allow(ctx context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	h := sha256.Sum256([]byte(key))
	var end int64
	var n int
	err := tx.QueryRowContext(ctx, `INSERT INTO rate_limits (key_hash, window_end, count) VALUES ($1, $2, 1)
		ON CONFLICT (key_hash) DO UPDATE SET
			count = CASE WHEN rate_limits.window_end <= $3 THEN 1 ELSE rate_limits.count + 1 END,
			window_end = CASE WHEN rate_limits.window_end <= $3 THEN $2 ELSE rate_limits.window_end END
		RETURNING window_end, count`, h[:], micros(tx.now.Add(window)), micros(tx.now)).Scan(&end, &n)
	if err != nil {
		return false, 0, err
	}
	if n <= limit {
		return true, 0, nil
	}
	return false, fromMicros(end).Sub(tx.now), nil
}

// PurgeExpired deletes what sign-in no longer needs: sessions past their
// end or idle deadline, one-time tokens a day after they expired or were
// used, failures of unknown addresses that no longer count, and rate-limit
// windows that ended. Run it now and then (every few minutes); it returns
// how many rows it deleted. Errors: EUnavailable.
func (db *DB) PurgeExpired(ctx context.Context) (int64, error) {
	var total int64
	err := db.withTx(ctx, func(tx *Tx) error {
		now, dayAgo := micros(tx.now), micros(tx.now.Add(-24*time.Hour))
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM sessions WHERE expires_at <= $1 OR idle_until <= $1`, []any{now}},
			{`DELETE FROM one_time_tokens WHERE expires_at <= $1 OR used_at <= $1`, []any{dayAgo}},
			{`DELETE FROM login_failures WHERE updated_at <= $1`, []any{micros(tx.now.Add(-unknownFailuresKept))}},
			{`DELETE FROM rate_limits WHERE window_end <= $1`, []any{now}},
		} {
			res, err := tx.ExecContext(ctx, q.sql, q.args...)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			total += n
		}
		return nil
	})
	return total, err
}
