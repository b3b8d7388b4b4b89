package sqldb

import (
	"strings"
	"testing"
)

// TestMigrationsMatch checks that both dialects have the same numbered
// migrations, each with a unique version and the same name.
func TestMigrationsMatch(t *testing.T) {
	for _, set := range []string{dataSchema, keystoreSchema} {
		checkMigrationsMatch(t, set)
	}
}

func checkMigrationsMatch(t *testing.T, set string) {
	lite, pg := migrations(set, SQLite), migrations(set, Postgres)
	if len(lite) == 0 || len(lite) != len(pg) {
		t.Fatalf("%d SQLite migrations, %d PostgreSQL", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].name != pg[i].name {
			t.Errorf("migration %d: %s on SQLite, %s on PostgreSQL", i, lite[i].name, pg[i].name)
		}
		if i > 0 && lite[i].version == lite[i-1].version {
			t.Errorf("version %d is used twice", lite[i].version)
		}
		if strings.TrimSpace(lite[i].sql) == "" || strings.TrimSpace(pg[i].sql) == "" {
			t.Errorf("migration %s is empty", lite[i].name)
		}
	}
}
