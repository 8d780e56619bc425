package db_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trendql/trendql/bench/benchdata"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/db/dbtest"
)

// streamSet is a content set whose lists span several export pages (500
// items each), one of them exactly two pages, with drafts, relations on
// every side, and the article.
func streamSet() *db.Content {
	c := benchdata.Synthetic(benchdata.Sizes{Companies: 1000, Frameworks: 1203, Trends: 501, LinksPerFramework: 4, BodyBytes: 200})
	c.Article = db.ArticleContent().Article
	for i := range c.Companies {
		if i%7 == 0 {
			c.Companies[i].Status = db.StatusDraft
		}
	}
	for i := range c.Trends {
		c.Trends[i].Companies = []string{c.Companies[i%len(c.Companies)].Slug}
		c.Trends[i].Highlights = []string{"one", "two"}
		if i%5 == 0 {
			c.Trends[i].Status = db.StatusDraft
		}
	}
	c.FAQs = []db.FAQDoc{
		{Slug: "which", Position: 1, Question: "Which?", Answer: "These:", Items: []string{"a", "b"},
			Frameworks: []string{"django", c.Frameworks[600].Slug}, Trends: []string{c.Trends[500].Slug}},
		{Slug: "why", Position: 2, Question: "Why?", Answer: "Because.\n\n\tIndented.", Items: []string{}, Frameworks: []string{}, Trends: []string{}},
	}
	return c
}

func openDB(t testing.TB) *db.DB {
	t.Helper()
	d, _, err := db.Open(context.Background(), dbtest.NewDSN(t), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// ExportTo writes exactly what encoding/json writes for the document
// Export returns (the format export has always had), across page
// boundaries, and importing it into a new database gives the same bytes.
func TestExportTo_IsTheDocumentEncodedAndRoundTrips(t *testing.T) {
	ctx := context.Background()
	d := openDB(t)
	if _, err := d.Import(ctx, streamSet(), false); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := d.ExportTo(ctx, &got); err != nil {
		t.Fatal(err)
	}
	c, err := d.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("ExportTo differs from the encoded document at byte %d", firstDiff(got.Bytes(), want.Bytes()))
	}
	if len(c.Companies) != 1000 || len(c.Frameworks) != 1203 || len(c.Trends) != 501 || len(c.FAQs) != 2 || c.Article == nil {
		t.Fatalf("exported %d companies, %d frameworks, %d trends, %d FAQs", len(c.Companies), len(c.Frameworks), len(c.Trends), len(c.FAQs))
	}
	for i := 1; i < len(c.Frameworks); i++ {
		if c.Frameworks[i-1].Slug >= c.Frameworks[i].Slug {
			t.Fatalf("frameworks out of order at %d", i)
		}
	}
	for i, x := range c.Trends {
		if x.Rank != i+1 {
			t.Fatalf("trends[%d] has rank %d", i, x.Rank)
		}
	}

	d2 := openDB(t)
	res, err := d2.ImportFrom(ctx, bytes.NewReader(got.Bytes()), false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created[db.TypeFramework] != 1203 {
		t.Fatalf("created %d frameworks", res.Created[db.TypeFramework])
	}
	var again bytes.Buffer
	if err := d2.ExportTo(ctx, &again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), got.Bytes()) {
		t.Fatalf("export → import → export differs at byte %d", firstDiff(again.Bytes(), got.Bytes()))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// The lists of a file may come in any order, each before the lists it
// refers to (they are set aside and applied in dependency order): the
// result is the same as from the exported order.
func TestImportFrom_ListsInAnyOrder(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir()) // to see what the import leaves there
	ctx := context.Background()
	src := openDB(t)
	if _, err := src.Import(ctx, streamSet(), false); err != nil {
		t.Fatal(err)
	}
	var doc bytes.Buffer
	if err := src.ExportTo(ctx, &doc); err != nil {
		t.Fatal(err)
	}
	var parts map[string]json.RawMessage
	if err := json.Unmarshal(doc.Bytes(), &parts); err != nil {
		t.Fatal(err)
	}
	var reversed bytes.Buffer
	reversed.WriteString("{")
	for i, k := range []string{"faqs", "trends", "frameworks", "article", "companies", "format"} {
		if i > 0 {
			reversed.WriteString(",")
		}
		fmt.Fprintf(&reversed, "%q: %s", k, parts[k])
	}
	reversed.WriteString("}")
	d := openDB(t)
	// From a reader that cannot seek, as standard input.
	if _, err := d.ImportFrom(ctx, io.MultiReader(&reversed), false); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := d.ExportTo(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), doc.Bytes()) {
		t.Fatalf("importing the lists in reverse order gave another content (differs at byte %d)", firstDiff(got.Bytes(), doc.Bytes()))
	}
	if left, _ := filepath.Glob(filepath.Join(os.TempDir(), "trendql-import-*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// A bad record at the very end of a big file, after thousands were
// written (and the search index set aside for its rebuild), rolls
// everything back: the content, the event log and search are as before.
// A dry run of the good file changes nothing either, and says what it
// would do.
func TestImportFrom_AllOrNothingAtTheEnd(t *testing.T) {
	ctx := context.Background()
	d := openDB(t)
	before := exportString(t, d)
	events := countEvents(t, d)
	c := streamSet()
	good, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	c.FAQs[1].Trends = []string{"no-such-trend"}
	bad, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.ImportFrom(ctx, bytes.NewReader(bad), false)
	if db.ErrorCode(err) != db.EINVALID || !strings.Contains(err.Error(), "faqs[1].trends") {
		t.Fatalf("import of a file whose last record is bad: %v", err)
	}
	res, err := d.ImportFrom(ctx, bytes.NewReader(good), true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created[db.TypeCompany] != 1000 || res.Created[db.TypeTrend] != 501 {
		t.Fatalf("dry run: %+v", res)
	}
	if after := exportString(t, d); after != before {
		t.Fatal("a failed import or a dry run changed the content")
	}
	if n := countEvents(t, d); n != events {
		t.Fatalf("events: %d, want %d", n, events)
	}
	// Search still answers from the index as it was (not suspended).
	if _, err := d.ImportFrom(ctx, bytes.NewReader(good), false); err != nil {
		t.Fatal(err)
	}
}

func exportString(t testing.TB, d *db.DB) string {
	t.Helper()
	var b bytes.Buffer
	if err := d.ExportTo(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func countEvents(t testing.TB, d *db.DB) int {
	t.Helper()
	var n int
	if err := dbtest.RawSQL(t, d.Path()).QueryRow("SELECT count(*) FROM events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// heapPeak samples the live Go heap every few milliseconds until stopped
// and returns its peak growth over the heap at the start.
func heapPeak() (stop func() uint64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if v := read(); v > peak {
				peak = v
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		if peak < base {
			return 0
		}
		return peak - base
	}
}

// BenchmarkImportExportStream imports the load-test-shaped set at 1× and
// 3× from a file into a new database, then exports it, and reports the
// peak growth of the Go heap during each (peak-heap-MiB). Both stream, so
// the peak must not grow with the content the way the whole document
// would (about 5× the file's size before): it is asserted to stay under
// 48 MiB, and `go run ./bench -scale 10` reports the process's peak RSS
// at 10×.
func BenchmarkImportExportStream(b *testing.B) {
	const maxHeap = 48 << 20
	for _, scale := range []int{1, 3} {
		c := benchdata.Scale(benchdata.Synthetic(benchdata.Large), scale)
		file := filepath.Join(b.TempDir(), "content.json")
		f, err := os.Create(file)
		if err != nil {
			b.Fatal(err)
		}
		if err := json.NewEncoder(f).Encode(c); err != nil {
			b.Fatal(err)
		}
		f.Close()
		st, _ := os.Stat(file)
		c = nil
		b.Run(fmt.Sprintf("%dx/import", scale), func(b *testing.B) {
			var peak uint64
			for b.Loop() {
				b.StopTimer()
				d, _, err := db.Open(context.Background(), dbtest.NewDSN(b), db.Options{})
				if err != nil {
					b.Fatal(err)
				}
				in, err := os.Open(file)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				stop := heapPeak()
				_, err = d.ImportFrom(context.Background(), in, false)
				peak = max(peak, stop())
				b.StopTimer()
				in.Close()
				d.Close()
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(st.Size())/(1<<20), "file-MiB")
			if peak > maxHeap {
				b.Fatalf("import of a %d MiB file grew the heap by %d MiB at its peak, over %d MiB", st.Size()>>20, peak>>20, maxHeap>>20)
			}
		})
		b.Run(fmt.Sprintf("%dx/export", scale), func(b *testing.B) {
			d, _, err := db.Open(context.Background(), dbtest.NewDSN(b), db.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			in, err := os.Open(file)
			if err != nil {
				b.Fatal(err)
			}
			_, err = d.ImportFrom(context.Background(), in, false)
			in.Close()
			if err != nil {
				b.Fatal(err)
			}
			var peak uint64
			b.ResetTimer()
			for b.Loop() {
				stop := heapPeak()
				err := d.ExportTo(context.Background(), io.Discard)
				peak = max(peak, stop())
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			if peak > maxHeap {
				b.Fatalf("export grew the heap by %d MiB at its peak, over %d MiB", peak>>20, maxHeap>>20)
			}
		})
	}
}

// An export is one snapshot even though it reads page by page: while
// another connection keeps swapping the ranks of two trends on different
// pages (each swap one transaction), every export lists every trend once.
// Pages read at different moments would sometimes list one of the two
// twice and the other not at all.
func TestExportTo_OneSnapshotAcrossPages(t *testing.T) {
	ctx := context.Background()
	d := openDB(t)
	if _, err := d.Import(ctx, streamSet(), false); err != nil {
		t.Fatal(err)
	}
	c, err := d.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, b := c.Trends[1], c.Trends[len(c.Trends)-1] // pages 1 and 2
	stop := make(chan struct{})
	swaps := make(chan int, 1)
	go func() {
		n := 0
		defer func() { swaps <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			a.Rank, b.Rank = b.Rank, a.Rank
			if _, err := d.Import(ctx, &db.Content{Format: db.ContentFormat, Trends: []db.TrendDoc{a, b}}, false); err != nil {
				t.Error(err)
				return
			}
			n++
		}
	}()
	for exports := range 8 {
		var buf bytes.Buffer
		if err := d.ExportTo(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		var got db.Content
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, x := range got.Trends {
			if seen[x.Slug] {
				t.Fatalf("export %d lists trend %q twice", exports, x.Slug)
			}
			seen[x.Slug] = true
		}
		if len(seen) != len(c.Trends) {
			t.Fatalf("export %d lists %d trends, want %d", exports, len(seen), len(c.Trends))
		}
	}
	close(stop)
	if n := <-swaps; n == 0 {
		t.Fatal("no swap ran during the exports")
	}
}

// The file is read and decoded beside the import, yet the first error in
// the file's order is the one reported, whether the importer finds it (a
// record that fails validation) or the reader does (a field no record
// has), and a failed import changes nothing.
func TestImportFrom_FirstErrorInFileOrderWins(t *testing.T) {
	ctx := context.Background()
	d := openDB(t)
	before := exportString(t, d)
	for _, tc := range []struct {
		name           string
		noName, colour int // the company without a name, the one with a colour
		want, notWant  string
	}{
		// Two records apart: the reader, running ahead of the importer,
		// finds the later error before the importer reaches the earlier.
		{"importer first", 3, 5, "companies[3].name", "colour"},
		{"reader first", 5, 3, "companies[3].colour", "companies[5]"},
		{"importer at the last record", 999, -1, "companies[999].name", "colour"},
		{"reader at the last record", -1, 999, "companies[999].colour", "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := streamSet()
			if tc.noName >= 0 {
				c.Companies[tc.noName].Name = ""
			}
			b, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if tc.colour >= 0 {
				slug := []byte(fmt.Sprintf(`{"slug":%q`, c.Companies[tc.colour].Slug))
				if bytes.Count(b, slug) != 1 {
					t.Fatalf("%s is not in the file once", slug)
				}
				b = bytes.Replace(b, slug, append(slug, `,"colour":"red"`...), 1)
			}
			_, err = d.ImportFrom(ctx, bytes.NewReader(b), false)
			if db.ErrorCode(err) != db.EINVALID || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), tc.notWant) {
				t.Fatalf("got %v, want an EINVALID error naming %s (and not %s)", err, tc.want, tc.notWant)
			}
			if after := exportString(t, d); after != before {
				t.Fatal("a failed import changed the content")
			}
		})
	}
}
