package tillit_test

import (
	"os/exec"
	"strings"
	"testing"
)

// allowedImports says which of the module's packages each package may
// import (DESIGN.md: every package depends inward on the root, never
// sideways). Packages not listed may import any.
var allowedImports = map[string][]string{
	"tillit":                 {},
	"tillit/auditlog":        {"tillit"},
	"tillit/receipt":         {"tillit"},
	"tillit/keyring":         {"tillit"},
	"tillit/sqldb":           {"tillit", "tillit/auditlog", "tillit/ident", "tillit/keyring", "tillit/password", "tillit/totp", "tillit/notify"},
	"tillit/web":             {"tillit", "tillit/peoplefile"},
	"tillit/ident":           {"tillit"},
	"tillit/password":        {"tillit"},
	"tillit/totp":            {},
	"tillit/notify":          {"tillit"},
	"tillit/peoplefile":      {"tillit"},
	"tillit/notify/smtptest": {"tillit", "tillit/notify"},
	"tillit/notify/smstest":  {"tillit", "tillit/notify"},
	"tillit/sqldb/sqldbtest": {"tillit", "tillit/keyring", "tillit/sqldb"},
}

// TestImportRules checks the dependency rules of the packages: the root
// imports only the standard library, and no package but cmd/ reaches
// sideways.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, "|")
		allowed, ruled := allowedImports[pkg]
		if strings.HasPrefix(pkg, "tillit/cmd/") {
			continue
		}
		if !ruled {
			t.Errorf("package %s has no import rule: add it to allowedImports", pkg)
			continue
		}
		for _, imp := range strings.Fields(imports) {
			internal := imp == "tillit" || strings.HasPrefix(imp, "tillit/")
			if internal && !contains(allowed, imp) {
				t.Errorf("%s imports %s, which it may not", pkg, imp)
			}
			if pkg == "tillit" && strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
				t.Errorf("the root package imports %s: it may import only the standard library", imp)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
