package db

import "encoding/json"

// Meta is what every content item carries: identity and lifecycle.
// Times are RFC 3339 UTC strings, as stored.
type Meta struct {
	RowID       int64
	Slug        string
	Status      Status
	Version     int
	CreatedAt   string
	UpdatedAt   string
	PublishedAt *string
}

// Trend is one of the article's backend development trends.
type Trend struct {
	Meta
	Rank       int
	Name       string
	Category   Category
	Summary    string
	Body       string // Markdown
	highlights string // JSON array, decoded on demand
	examples   string
}

// ID returns the trend's opaque global id.
func (t *Trend) ID() string { return EncodeID(TypeTrend, t.RowID) }

// Highlights returns the section's bullet points, in order.
func (t *Trend) Highlights() []string { return decodeList(t.highlights) }

// Examples returns the products the section names.
func (t *Trend) Examples() []string { return decodeList(t.examples) }

// Framework is a backend framework or a programming language.
type Framework struct {
	Meta
	Name          string
	Kind          FrameworkKind
	FirstReleased *int
	Summary       string
	language      string
	creator       string
	architecture  string
	features      string
}

// Language returns the language the framework is written in (or, for a
// language, its own name); nil when unknown.
func (f *Framework) Language() *string { return nilIfEmpty(f.language) }

// Creator returns who created the framework; nil when unknown.
func (f *Framework) Creator() *string { return nilIfEmpty(f.creator) }

// Architecture returns the framework's architectural pattern; nil when unknown.
func (f *Framework) Architecture() *string { return nilIfEmpty(f.architecture) }

// ID returns the framework's opaque global id.
func (f *Framework) ID() string { return EncodeID(TypeFramework, f.RowID) }

// Features returns the framework's key features, in order.
func (f *Framework) Features() []string { return decodeList(f.features) }

// Company is a company the article names as a user or provider.
type Company struct {
	Meta
	Name string
}

// ID returns the company's opaque global id.
func (c *Company) ID() string { return EncodeID(TypeCompany, c.RowID) }

// FAQ is one of the article's frequently asked questions.
type FAQ struct {
	Meta
	Position int
	Question string
	Answer   string // Markdown
	items    string
}

// ID returns the FAQ's opaque global id.
func (f *FAQ) ID() string { return EncodeID(TypeFAQ, f.RowID) }

// Items returns a list answer's items, in order (empty for a prose answer).
func (f *FAQ) Items() []string { return decodeList(f.items) }

// Article is the page around the trends: title, intro, sections, conclusion.
type Article struct {
	Title       string
	LastUpdated string
	Intro       string
	Sections    []*Section
	Conclusion  string
	UpdatedAt   string
}

// ArticleID is the article's global id. There is one article, its row 1.
var ArticleID = EncodeID(TypeArticle, 1)

// ID returns the article's global id: it is a Node too.
func (a *Article) ID() string { return ArticleID }

// Section is one explanatory section of the article.
type Section struct {
	Heading string
	Body    string
}

// Node is any content item with a global id.
type Node interface {
	ID() string
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func decodeList(s string) []string {
	out := []string{}
	if s == "" || s == "[]" {
		return out
	}
	_ = json.Unmarshal([]byte(s), &out) // written by encodeList only
	return out
}

func encodeList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l)
	return string(b)
}
