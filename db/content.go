package db

// ContentFormat names the version of the content document written by
// Export and read by Import.
const ContentFormat = "trendql-content-1"

// Content is the whole content of a trendql database as one document: the
// format of `trendql export` and `trendql import`, and of the embedded
// article seed. Relations are expressed by slug, so a document moves between
// databases whose row ids differ. Lists are in a stable order (trends by
// rank, FAQs by position, frameworks and companies by slug) so that two
// exports of the same content are byte-identical.
type Content struct {
	Format     string         `json:"format"`
	Article    *ArticleDoc    `json:"article,omitempty"`
	Companies  []CompanyDoc   `json:"companies"`
	Frameworks []FrameworkDoc `json:"frameworks"`
	Trends     []TrendDoc     `json:"trends"`
	FAQs       []FAQDoc       `json:"faqs"`
}

// ArticleDoc is the article's page furniture: what surrounds the list of
// trends.
type ArticleDoc struct {
	Title       string       `json:"title"`
	LastUpdated string       `json:"lastUpdated"` // ISO date, 2024-01-29
	Intro       string       `json:"intro"`       // Markdown
	Sections    []SectionDoc `json:"sections"`
	Conclusion  string       `json:"conclusion"` // Markdown
}

// SectionDoc is one explanatory section of the article.
type SectionDoc struct {
	Heading string `json:"heading"`
	Body    string `json:"body"` // Markdown
}

// CompanyDoc is a company as it appears in a content document.
type CompanyDoc struct {
	Slug   string      `json:"slug"`
	Name   string      `json:"name"`
	Status Status      `json:"status,omitempty"` // empty means PUBLISHED on import
	Draft  *CompanyDoc `json:"draft,omitempty"`  // a published item's pending draft (no status, no draft); links by live slug
}

// FrameworkDoc is a framework or language as it appears in a content
// document. Companies lists the slugs of the companies that use it.
type FrameworkDoc struct {
	Slug          string        `json:"slug"`
	Name          string        `json:"name"`
	Kind          FrameworkKind `json:"kind"`
	Language      string        `json:"language,omitempty"`
	Creator       string        `json:"creator,omitempty"`
	FirstReleased *int          `json:"firstReleased,omitempty"`
	Architecture  string        `json:"architecture,omitempty"`
	Summary       string        `json:"summary"`
	Features      []string      `json:"features"`
	Companies     []string      `json:"companies"`
	Status        Status        `json:"status,omitempty"`
	Draft         *FrameworkDoc `json:"draft,omitempty"` // a published item's pending draft (no status, no draft); links by live slug
}

// TrendDoc is a trend as it appears in a content document. Frameworks and
// Companies are slugs, in order; the first framework is the trend's
// Framework.
type TrendDoc struct {
	Slug       string    `json:"slug"`
	Rank       int       `json:"rank"`
	Name       string    `json:"name"`
	Category   Category  `json:"category"`
	Summary    string    `json:"summary"`
	Body       string    `json:"body"` // Markdown
	Highlights []string  `json:"highlights"`
	Examples   []string  `json:"examples"`
	Frameworks []string  `json:"frameworks"`
	Companies  []string  `json:"companies"`
	Status     Status    `json:"status,omitempty"`
	Draft      *TrendDoc `json:"draft,omitempty"` // a published item's pending draft (no status, no draft); links by live slug
}

// FAQDoc is a frequently asked question as it appears in a content
// document. Items is a list answer in order; Frameworks and Trends are the
// slugs of what the list names, in order.
type FAQDoc struct {
	Slug       string   `json:"slug"`
	Position   int      `json:"position"`
	Question   string   `json:"question"`
	Answer     string   `json:"answer"` // Markdown
	Items      []string `json:"items"`
	Frameworks []string `json:"frameworks"`
	Trends     []string `json:"trends"`
	Status     Status   `json:"status,omitempty"`
	Draft      *FAQDoc  `json:"draft,omitempty"` // a published item's pending draft (no status, no draft); links by live slug
}
