package web

import "testing"

func TestPDFText(t *testing.T) {
	for in, want := range map[string]string{
		"Åse Øydis Ærø äöü ÄÖÜ é": "Åse Øydis Ærø äöü ÄÖÜ é", // Windows-1252 has them
		"Čáhppes Đuŋŋo Ŧ":         "Cáhppes Dunno T",         // Sámi letters it lacks: their base letter
		"Žan – “Š” €":             "Žan – “Š” €",
		"a\x00b\nc\u4e2d":         "a b\nc?",
	} {
		if got := pdfText(in); got != want {
			t.Errorf("pdfText(%q) = %q, want %q", in, got, want)
		}
	}
}
