package graph

import (
	"bytes"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// FuzzAppendQuoted checks the fast path's string writer against gqlgen's
// own (graphql.MarshalString): byte-identical for any bytes, invalid
// UTF-8, control characters and quotes included.
func FuzzAppendQuoted(f *testing.F) {
	for _, s := range []string{"", "plain", "Ünïcödé ✓ 日本", "quote \" back \\ slash", "\t\r\n\x00\x1f\x7f",
		"bad \xff\xfe utf-8 \xc3", "</script>&<>", "\u2028\u2029", "emoji 🚀 end",
		"eight by eight: 0123456\"89abcdef\\hijklmn\x01pqrstuvwxyz\x1f", strings.Repeat("a long clean run of text ", 20) + "\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		graphql.MarshalString(s).MarshalGQL(&want)
		if got := appendQuoted(nil, s); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("appendQuoted(%q) = %q, gqlgen writes %q", s, got, want.Bytes())
		}
	})
}

// BenchmarkAppendQuoted writes a trend's body (≈1.5 KB of prose, a few
// quotes and newlines) as a JSON string.
func BenchmarkAppendQuoted(b *testing.B) {
	s := strings.Repeat(`Serverless computing lets teams ship "functions" without managing servers.\n`, 20)
	b.SetBytes(int64(len(s)))
	buf := make([]byte, 0, 4096)
	for b.Loop() {
		buf = appendQuoted(buf[:0], s)
	}
}
