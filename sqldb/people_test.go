package sqldb_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"tillit"
	"tillit/sqldb"
	"tillit/sqldb/sqldbtest"
)

// fullPerson has every standard attribute, written as a person would type
// them, and a value of each tenant attribute of testSchema.
func fullPerson() *tillit.Person {
	return &tillit.Person{
		GivenName: " Kari ", FamilyName: "Nordmann", NationalID: "19121212-1212", NationalIDCountry: "se",
		Email: " Kari.Nordmann@Example.NO ", Phone: "912 34 567",
		Address:  &tillit.Address{Street: "Storgata 1", PostalCode: "0155", City: "Oslo", Country: "no"},
		Language: "nb",
		Attributes: map[string]any{"member_no": 42.0, "active": true, "joined": "2020-01-31", "level": "gold",
			"diagnosis": "asthma", "municipality": "0301"},
	}
}

func TestCreatePerson(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		e.mustSchema(testSchema())
		p := e.mustCreate(fullPerson())
		now := e.clock.Now()
		want := &tillit.Person{ID: p.ID, GivenName: "Kari", FamilyName: "Nordmann", NationalID: "191212121212",
			NationalIDCountry: "SE", BirthDate: "1912-12-12", Email: "Kari.Nordmann@Example.NO", Phone: "+4791234567",
			Address:  &tillit.Address{Street: "Storgata 1", PostalCode: "0155", City: "Oslo", Country: "NO"},
			Language: "nb", Attributes: fullPerson().Attributes, CollectedAt: now, UpdatedAt: now, LastActivityAt: now,
			Source: tillit.SourceAPI}
		if p.ID <= 0 || p.ID >= 1<<53 {
			t.Fatalf("id %d is not a positive 53-bit number", p.ID)
		}
		samePerson(t, p, want)
		samePerson(t, e.mustRead(p.ID), want)

		// The non_personal attribute alone is kept unsealed; every other
		// value is sealed at its own place.
		var plain string
		var sealed []byte
		if err := e.rawData().QueryRow(`SELECT plain, sealed FROM people WHERE id = $1`, p.ID).Scan(&plain, &sealed); err != nil {
			t.Fatal(err)
		}
		if plain != `{"municipality":"0301"}` {
			t.Fatalf("plain column %s", plain)
		}
		byPlace, err := sqldb.DecodeSealedForTest(sealed)
		if err != nil {
			t.Fatal(err)
		}
		places := slices.Sorted(func(yield func(string) bool) {
			for k := range byPlace {
				if !yield(k) {
					return
				}
			}
		})
		wantPlaces := []string{"address", "attributes.active", "attributes.diagnosis", "attributes.joined", "attributes.level",
			"attributes.member_no", "birth_date", "email", "family_name", "given_name", "language", "national_id",
			"national_id_country", "phone"}
		if !slices.Equal(places, wantPlaces) {
			t.Fatalf("sealed places %v, want %v", places, wantPlaces)
		}

		// collected_at is kept as given, in UTC to the microsecond.
		at := time.Date(2025, 3, 4, 5, 6, 7, 891234567, time.FixedZone("CET", 3600))
		e.clock.Add(time.Hour)
		q := e.mustCreate(&tillit.Person{GivenName: "Ola", CollectedAt: at})
		got := e.mustRead(q.ID)
		if wantAt := at.UTC().Truncate(time.Microsecond); !got.CollectedAt.Equal(wantAt) || got.CollectedAt.Location() != time.UTC ||
			!q.CollectedAt.Equal(wantAt) {
			t.Fatalf("collected_at %v (returned %v), want %v", got.CollectedAt, q.CollectedAt, wantAt)
		}
		if !got.UpdatedAt.Equal(e.clock.Now()) || !got.LastActivityAt.Equal(e.clock.Now()) {
			t.Fatalf("updated_at %v, last_activity_at %v, want %v", got.UpdatedAt, got.LastActivityAt, e.clock.Now())
		}
		samePerson(t, got, q)

		// A person of no attribute at all is a person.
		empty := e.mustCreate(&tillit.Person{})
		samePerson(t, e.mustRead(empty.ID), empty)
	})
}

func TestCreatePersonRefusals(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		e.mustSchema(testSchema())
		attrs := func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		}
		tests := []struct {
			name  string
			p     tillit.Person
			field string
		}{
			{"bad national id", tillit.Person{NationalID: "19121212-1213", NationalIDCountry: "SE"}, "national_id"},
			{"national id of no country", tillit.Person{NationalID: "12345"}, "national_id"},
			{"national id of two countries", tillit.Person{NationalID: "1212121212"}, "national_id_country"},
			{"unknown country", tillit.Person{NationalID: "19121212-1212", NationalIDCountry: "DE"}, "national_id_country"},
			{"country without national id", tillit.Person{NationalIDCountry: "NO"}, "national_id_country"},
			{"birth date other than the national id's", tillit.Person{NationalID: "19121212-1212", NationalIDCountry: "SE", BirthDate: "1912-12-13"}, "birth_date"},
			{"birth date not a date", tillit.Person{BirthDate: "12.12.1912"}, "birth_date"},
			{"birth date in the future", tillit.Person{BirthDate: "2027-01-01"}, "birth_date"},
			{"bad email", tillit.Person{Email: "kari@"}, "email"},
			{"email with a name", tillit.Person{Email: "Kari <kari@example.no>"}, "email"},
			{"bad phone", tillit.Person{Phone: "12"}, "phone"},
			{"phone with letters", tillit.Person{Phone: "+47 CALL ME"}, "phone"},
			{"unknown tenant attribute", tillit.Person{Attributes: attrs("shoe_size", 42.0)}, "attributes.shoe_size"},
			{"number as text", tillit.Person{Attributes: attrs("member_no", "42")}, "attributes.member_no"},
			{"boolean as text", tillit.Person{Attributes: attrs("active", "yes")}, "attributes.active"},
			{"date that does not exist", tillit.Person{Attributes: attrs("joined", "2020-02-30")}, "attributes.joined"},
			{"enum value not allowed", tillit.Person{Attributes: attrs("level", "platinum")}, "attributes.level"},
			{"text as number", tillit.Person{Attributes: attrs("diagnosis", 5.0)}, "attributes.diagnosis"},
			{"name with a line break", tillit.Person{GivenName: "Kari\nNordmann"}, "given_name"},
			{"name too long", tillit.Person{FamilyName: strings.Repeat("x", 201)}, "family_name"},
			{"language", tillit.Person{Language: "Norwegian"}, "language"},
			{"address country", tillit.Person{Address: &tillit.Address{City: "Oslo", Country: "NOR"}}, "address.country"},
			{"collected in the future", tillit.Person{CollectedAt: e.clock.Now().Add(time.Hour)}, "collected_at"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				wantErr(t, e.svc.CreatePerson(e.cw, &tc.p), tillit.EInvalid, tc.field)
			})
		}

		// A required attribute of another tenant's schema.
		strict := sqldbtest.MustTenant(t, e.db, "strict")
		_, _, strictAdmin := sqldbtest.MustToken(t, e.db, strict, tillit.RoleAdmin)
		s := testSchema()
		s.Attributes = append(s.Attributes, tillit.AttributeDef{Name: "consent", Type: tillit.TypeBoolean,
			Classification: tillit.ClassPersonal, Required: true})
		if _, err := e.svc.UpdateSchema(strictAdmin, s); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.svc.CreatePerson(strictAdmin, &tillit.Person{GivenName: "Kari"}), tillit.EInvalid, "attributes.consent")
		if err := e.svc.CreatePerson(strictAdmin, &tillit.Person{GivenName: "Kari", Attributes: attrs("consent", false)}); err != nil {
			t.Fatal(err)
		}
		// The acme tenant's schema does not require it.
		if err := e.svc.CreatePerson(e.cw, &tillit.Person{GivenName: "Kari"}); err != nil {
			t.Fatal(err)
		}

		// A refused person leaves nothing behind: no row, no key.
		if n := queryInt(t, e.rawData(), `SELECT COUNT(*) FROM people`); n != 2 {
			t.Fatalf("%d people stored, want 2", n)
		}
		if n := queryInt(t, e.rawKeys(), `SELECT COUNT(*) FROM person_keys`); n != 2 {
			t.Fatalf("%d person keys stored, want 2", n)
		}
	})
}

func TestNationalIDs(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		tests := []struct {
			in, country            string
			norm, wantCountry, day string
			lookups                []tillit.PersonLookup
		}{
			{"19121212-1212", "", "191212121212", "SE", "1912-12-12", []tillit.PersonLookup{
				{NationalID: "191212121212"}, {NationalID: "19121212-1212"}, {NationalID: "121212+1212"},
				{NationalID: "1912 1212 1212", NationalIDCountry: "SE"}, {NationalID: "191212121212", NationalIDCountry: "se"}}},
			{"811218-9876", "SE", "198112189876", "SE", "1981-12-18", []tillit.PersonLookup{
				{NationalID: "8112189876"}, {NationalID: "19811218-9876", NationalIDCountry: "SE"}}},
			{"010107 10029", "", "01010710029", "NO", "1907-01-01", []tillit.PersonLookup{
				{NationalID: "01010710029"}, {NationalID: " 010107 100 29 ", NationalIDCountry: "NO"}}},
			{"010170-1234", "DK", "0101701234", "DK", "1970-01-01", []tillit.PersonLookup{
				{NationalID: "0101701234"}, {NationalID: "010170-1234", NationalIDCountry: "DK"}}},
			{"131052-308t", "fi", "131052-308T", "FI", "1952-10-13", []tillit.PersonLookup{
				{NationalID: "131052-308T"}, {NationalID: " 131052-308t ", NationalIDCountry: "FI"}}},
			// Danish and Swedish at once: the country decides.
			{"1212121212", "DK", "1212121212", "DK", "1912-12-12", []tillit.PersonLookup{
				{NationalID: "1212121212"}, {NationalID: "121212-1212", NationalIDCountry: "DK"}}},
		}
		for _, tc := range tests {
			t.Run(tc.in, func(t *testing.T) {
				p := e.mustCreate(&tillit.Person{NationalID: tc.in, NationalIDCountry: tc.country})
				if p.NationalID != tc.norm || p.NationalIDCountry != tc.wantCountry || p.BirthDate != tc.day {
					t.Fatalf("created %s %s born %s, want %s %s born %s", p.NationalIDCountry, p.NationalID, p.BirthDate,
						tc.wantCountry, tc.norm, tc.day)
				}
				samePerson(t, e.mustRead(p.ID), p)
				for _, l := range tc.lookups {
					found, err := e.svc.LookupPeople(e.cw, l)
					if err != nil || len(found) != 1 || found[0].ID != p.ID {
						t.Fatalf("lookup %+v: %v, %v", l, personIDs(found), err)
					}
				}
			})
		}
		// The Swedish reading of 1212121212 is another person.
		found, err := e.svc.LookupPeople(e.cw, tillit.PersonLookup{NationalID: "1212121212", NationalIDCountry: "SE"})
		if err != nil || len(found) != 0 {
			t.Fatalf("Swedish lookup of a Danish number: %v, %v", personIDs(found), err)
		}
	})
}

func TestPhoneNumbers(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		// Phone numbers are not unique: each of these is another person
		// with the same number.
		var same []int64
		for _, in := range []string{"912 34 567", "+47 91234567", "0047 912 34 567", "91-23-45-67", "(+47) 912.34.567"} {
			p := e.mustCreate(&tillit.Person{Phone: in})
			if p.Phone != "+4791234567" {
				t.Fatalf("%q stored as %q", in, p.Phone)
			}
			same = append(same, p.ID)
		}
		slices.Sort(same)
		other := e.mustCreate(&tillit.Person{Phone: "+46 70 123 45 67"})
		if other.Phone != "+46701234567" {
			t.Fatalf("Swedish number stored as %q", other.Phone)
		}
		for _, in := range []string{"912 34 567", "+47 91234567", "0047 912 34 567", "91234567"} {
			found, err := e.svc.LookupPeople(e.cw, tillit.PersonLookup{Phone: in})
			if err != nil || !slices.Equal(sortedIDs(found), same) {
				t.Fatalf("lookup %q: %v, %v; want %v", in, sortedIDs(found), err, same)
			}
		}

		// A Swedish tenant's numbers without a country code are Swedish.
		se := &tillit.Tenant{Slug: "sverige", Name: "Sverige AB", Settings: tillit.TenantSettings{Country: "SE"}}
		if err := sqldb.NewTenantService(e.db).CreateTenant(sqldbtest.System(), se); err != nil {
			t.Fatal(err)
		}
		_, _, seCW := sqldbtest.MustToken(t, e.db, se, tillit.RoleCaseworker)
		p := &tillit.Person{Phone: "070-123 45 67"}
		if err := e.svc.CreatePerson(seCW, p); err != nil || p.Phone != "+46701234567" {
			t.Fatalf("Swedish number %q, %v", p.Phone, err)
		}
		found, err := e.svc.LookupPeople(seCW, tillit.PersonLookup{Phone: "0701234567"})
		if err != nil || len(found) != 1 || found[0].ID != p.ID {
			t.Fatalf("Swedish lookup: %v, %v", personIDs(found), err)
		}
	})
}

func TestPersonConflicts(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		e.mustCreate(&tillit.Person{GivenName: "Kari", NationalID: "19121212-1212", Email: "kari@example.no"})
		tests := []struct {
			name  string
			p     tillit.Person
			field string
		}{
			{"same national id, other form", tillit.Person{NationalID: "191212121212"}, "national_id"},
			{"same national id, hundred-year form", tillit.Person{NationalID: "121212+1212", Email: "other@example.no"}, "national_id"},
			{"same email, other case", tillit.Person{Email: " KARI@Example.NO"}, "email"},
			{"same email, other national id", tillit.Person{NationalID: "811218-9876", Email: "Kari@example.no"}, "email"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				err := e.svc.CreatePerson(e.cw, &tc.p)
				wantErr(t, err, tillit.EConflict, tc.field)
				if !strings.Contains(tillit.ErrorMessage(err), tc.field) {
					t.Fatalf("message %q does not name %s", tillit.ErrorMessage(err), tc.field)
				}
			})
		}

		// Another tenant may have the same person.
		beta := sqldbtest.MustTenant(t, e.db, "beta")
		_, _, betaCW := sqldbtest.MustToken(t, e.db, beta, tillit.RoleCaseworker)
		if err := e.svc.CreatePerson(betaCW, &tillit.Person{NationalID: "19121212-1212", Email: "kari@example.no"}); err != nil {
			t.Fatalf("the same person in another tenant: %v", err)
		}

		// An update into another person's values.
		b := e.mustCreate(&tillit.Person{Email: "b@example.no", NationalID: "811218-9876"})
		_, err := e.svc.UpdatePerson(e.cw, b.ID, []byte(`{"email":"KARI@example.no"}`))
		wantErr(t, err, tillit.EConflict, "email")
		_, err = e.svc.UpdatePerson(e.cw, b.ID, []byte(`{"national_id":"19121212-1212"}`))
		wantErr(t, err, tillit.EConflict, "national_id")
		samePerson(t, e.mustRead(b.ID), b)

		// The keys of refused people are gone: one key per person stored.
		if n := queryInt(t, e.rawKeys(), `SELECT COUNT(*) FROM person_keys WHERE tenant_id = $1`, e.tenant.ID); n != 2 {
			t.Fatalf("%d person keys in the tenant, want 2", n)
		}
	})
}

func TestPeopleOfAnotherTenant(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		a := e.mustCreate(&tillit.Person{GivenName: "Kari", Email: "kari@example.no", Phone: "912 34 567", NationalID: "19121212-1212"})
		r := &tillit.Record{PersonID: a.ID, Category: "note", Title: "Samtale"}
		if err := e.svc.CreateRecord(e.cw, r); err != nil {
			t.Fatal(err)
		}
		beta := sqldbtest.MustTenant(t, e.db, "beta")
		_, _, b := sqldbtest.MustToken(t, e.db, beta, tillit.RoleAdmin)
		notFound := map[string]error{}
		_, notFound["read"] = e.svc.FindPersonByID(b, a.ID)
		_, notFound["update"] = e.svc.UpdatePerson(b, a.ID, []byte(`{"given_name":"Ola"}`))
		_, notFound["records"] = e.svc.FindRecords(b, a.ID, tillit.RecordFilter{})
		_, notFound["record"] = e.svc.FindRecordByID(b, a.ID, r.ID)
		title := "Endret"
		_, notFound["update record"] = e.svc.UpdateRecord(b, a.ID, r.ID, tillit.RecordUpdate{Title: &title})
		notFound["delete record"] = e.svc.DeleteRecord(b, a.ID, r.ID)
		notFound["create record"] = e.svc.CreateRecord(b, &tillit.Record{PersonID: a.ID, Category: "note", Title: "x"})
		for op, err := range notFound {
			if code(err) != tillit.ENotFound {
				t.Errorf("%s of another tenant's person: %v", op, err)
			}
		}
		for _, l := range []tillit.PersonLookup{{Email: a.Email}, {Phone: a.Phone}, {NationalID: a.NationalID}} {
			if found, err := e.svc.LookupPeople(b, l); err != nil || len(found) != 0 {
				t.Errorf("lookup %+v from another tenant: %v, %v", l, personIDs(found), err)
			}
		}
		if page, err := e.svc.FindPeople(b, tillit.PersonFilter{}); err != nil || len(page.People) != 0 {
			t.Errorf("another tenant's list: %+v, %v", page, err)
		}
		// Nothing changed.
		samePerson(t, e.mustRead(a.ID), a)
		if got, err := e.svc.FindRecordByID(e.cw, a.ID, r.ID); err != nil || got.Title != "Samtale" {
			t.Fatalf("record after the other tenant's attempts: %+v, %v", got, err)
		}
	})
}

func TestPeoplePermissions(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		e := newRegEnv(t, dialect)
		p := e.mustCreate(&tillit.Person{GivenName: "Kari", Email: "kari@example.no"})
		r := &tillit.Record{PersonID: p.ID, Category: "note", Title: "Samtale"}
		if err := e.svc.CreateRecord(e.cw, r); err != nil {
			t.Fatal(err)
		}
		title := "x"
		reads := map[string]func(ctx context.Context) error{
			"read": func(ctx context.Context) error { _, err := e.svc.FindPersonByID(ctx, p.ID); return err },
			"list": func(ctx context.Context) error { _, err := e.svc.FindPeople(ctx, tillit.PersonFilter{}); return err },
			"lookup": func(ctx context.Context) error {
				_, err := e.svc.LookupPeople(ctx, tillit.PersonLookup{Email: p.Email})
				return err
			},
			"records": func(ctx context.Context) error {
				_, err := e.svc.FindRecords(ctx, p.ID, tillit.RecordFilter{})
				return err
			},
			"record": func(ctx context.Context) error { _, err := e.svc.FindRecordByID(ctx, p.ID, r.ID); return err },
		}
		writes := map[string]func(ctx context.Context) error{
			"create": func(ctx context.Context) error { return e.svc.CreatePerson(ctx, &tillit.Person{GivenName: "Ola"}) },
			"update": func(ctx context.Context) error {
				_, err := e.svc.UpdatePerson(ctx, p.ID, []byte(`{"given_name":"Ola"}`))
				return err
			},
			"create record": func(ctx context.Context) error {
				return e.svc.CreateRecord(ctx, &tillit.Record{PersonID: p.ID, Category: "note", Title: "x"})
			},
			"update record": func(ctx context.Context) error {
				_, err := e.svc.UpdateRecord(ctx, p.ID, r.ID, tillit.RecordUpdate{Title: &title})
				return err
			},
			"delete record": func(ctx context.Context) error { return e.svc.DeleteRecord(ctx, p.ID, r.ID) },
			"import": func(ctx context.Context) error {
				_, err := e.svc.ImportPeople(ctx, &sliceSource{}, tillit.ImportOptions{}, nil)
				return err
			},
		}
		for name, f := range reads {
			if err := f(e.reader); err != nil {
				t.Errorf("reader %s: %v", name, err)
			}
			if err := f(e.auditor); code(err) != tillit.EForbidden {
				t.Errorf("auditor %s: %v", name, err)
			}
			if err := f(context.Background()); code(err) != tillit.EUnauthenticated {
				t.Errorf("anonymous %s: %v", name, err)
			}
			if err := f(sqldbtest.System()); code(err) != tillit.EForbidden {
				t.Errorf("system %s: %v", name, err)
			}
		}
		for name, f := range writes {
			if err := f(e.reader); code(err) != tillit.EForbidden {
				t.Errorf("reader %s: %v", name, err)
			}
			if err := f(e.auditor); code(err) != tillit.EForbidden {
				t.Errorf("auditor %s: %v", name, err)
			}
		}
		if _, err := e.svc.UpdateSchema(e.cw, testSchema()); code(err) != tillit.EForbidden {
			t.Errorf("caseworker updated the schema: %v", err)
		}
		if s, err := e.svc.FindSchema(e.reader); err != nil || !slices.Equal(s.Categories, tillit.DefaultCategories) {
			t.Errorf("reader's schema: %+v, %v", s, err)
		}
		samePerson(t, e.mustRead(p.ID), p)
	})
}
