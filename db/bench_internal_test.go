package db

import (
	"context"
	"testing"
)

// benchFramework is an item whose cursor the benchmarks encode.
var benchFramework = &Framework{Meta: Meta{RowID: 12345, Slug: "framework-12345"}, Name: "Framework 12345"}

// BenchmarkEncodeCursor measures one cursor in the default framework order
// (name, id): every edge's cursor and pageInfo's start and end cost one.
func BenchmarkEncodeCursor(b *testing.B) {
	keys, err := frameworkTable.resolveOrder(nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	sig := orderSig(keys)
	b.ReportAllocs()
	for b.Loop() {
		_ = encodeCursor(keys, sig, benchFramework)
	}
}

// BenchmarkDecodeCursor measures parsing an after: cursor.
func BenchmarkDecodeCursor(b *testing.B) {
	keys, err := frameworkTable.resolveOrder(nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	sig := orderSig(keys)
	c := encodeCursor(keys, sig, benchFramework)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeCursor("after", c, keys, sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFilterBuild measures turning filters into SQL: none (every
// plain list pays this), and a typical nested one.
func BenchmarkFilterBuild(b *testing.B) {
	ctx := context.Background()
	py, gte, name, company := "Python", 2010, "dj", "company-0001"
	for _, bc := range []struct {
		name string
		f    *FrameworkFilter
	}{
		{"none", nil},
		{"nested", &FrameworkFilter{
			Or: []*FrameworkFilter{
				{Language: &StringFilter{Eq: &py}},
				{Name: &StringFilter{Contains: &name}},
			},
			FirstReleased: &IntFilter{Gte: &gte},
			Company:       &RelationFilter{Slug: &company},
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w, err := buildFilter(ctx, frameworkTable, bc.f)
				if err != nil {
					b.Fatal(err)
				}
				visible(ctx, &w, "f")
				_ = w.sql()
			}
		})
	}
}

// BenchmarkListSQL measures building a page's SELECT after a cursor: the
// ordering, the keyset condition and the statement text.
func BenchmarkListSQL(b *testing.B) {
	keys, err := frameworkTable.resolveOrder(nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	vals := []any{"Framework 12345", int64(12345)}
	b.ReportAllocs()
	for b.Loop() {
		var w where
		visible(context.Background(), &w, "f")
		cond, args := keyset(keys, vals, false)
		w.add(cond, args...)
		_ = orderSig(keys)
		_ = orderBySQL(keys, false)
		_ = w.sql()
	}
}
