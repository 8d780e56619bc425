package db

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/trendql/trendql/db/dbtest"
)

// FuzzDecodeID: any string either decodes to a valid id that re-encodes
// to itself, or fails with EINVALID.
func FuzzDecodeID(f *testing.F) {
	for _, s := range []string{EncodeID(TypeTrend, 1), EncodeID(TypeFAQ, 99), "", "VHJlbmQ6MA", "VHJlbmQ6LTE", "%%", "Trend:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, n, err := DecodeID("id", s)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("DecodeID(%q) error %v is not EINVALID", s, err)
			}
			return
		}
		if n <= 0 || EncodeID(typ, n) != s {
			t.Fatalf("DecodeID(%q) = %s %d, which encodes to %q", s, typ, n, EncodeID(typ, n))
		}
	})
}

// FuzzCursor: any cursor either decodes for its ordering or fails with
// EINVALID; a cursor made for an item decodes to that item's keys.
func FuzzCursor(f *testing.F) {
	keys, err := trendTable.resolveOrder([]string{"NAME", "RANK"}, []Direction{Desc, Asc})
	if err != nil {
		f.Fatal(err)
	}
	sig := orderSig(keys)
	good := encodeCursor(keys, sig, &Trend{Meta: Meta{RowID: 7}, Name: "Go", Rank: 9})
	for _, s := range []string{good, "", "W10", "WyJ4Il0", "bnVsbA", good + "A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vals, err := decodeCursor("after", s, keys, sig)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("decodeCursor(%q): %v", s, err)
			}
			return
		}
		if len(vals) != len(keys) {
			t.Fatalf("decodeCursor(%q) = %d values for %d keys", s, len(vals), len(keys))
		}
		if _, ok := vals[0].(string); !ok {
			t.Fatalf("name key decoded as %T", vals[0])
		}
		for _, v := range vals[1:] {
			if _, ok := v.(int64); !ok {
				t.Fatalf("int key decoded as %T", v)
			}
		}
	})
}

// FuzzFilter: any JSON filter either builds SQL that runs, or fails with
// EINVALID — never an SQL error or a panic.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{
		`{"name":{"contains":"go"}}`,
		`{"OR":[{"rank":{"gte":3}},{"NOT":{"category":{"eq":"LANGUAGE"}}}]}`,
		`{"company":{"slug":"google","idIn":["x"]}}`,
		`{"AND":[{"AND":[{"AND":[{"slug":{"in":["a","b"]}}]}]}]}`,
		`{"id":{"eq":"VHJlbmQ6MQ"},"framework":{"id":"RnJhbWV3b3JrOjE"}}`,
		`{"rank":{"in":[1,2,3],"isNull":true}}`,
		`{"OR":[]}`,
	} {
		f.Add(s)
	}
	ctx := context.Background()
	d, _, err := Open(ctx, dbtest.NewDSN(f), Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { d.Close() })
	if err := d.Seed(ctx); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var filter TrendFilter
		if json.Unmarshal([]byte(s), &filter) != nil {
			return
		}
		for _, err := range []error{
			func() error { _, err := d.Trends(ctx, &filter, nil, PageArgs{}); return err }(),
			func() error { _, err := d.CountTrends(ctx, &filter); return err }(),
		} {
			if err != nil && ErrorCode(err) != EINVALID {
				t.Fatalf("filter %s: %v", s, err)
			}
		}
	})
}
