package db

// Status is the publication state of a content item.
type Status string

// The publication states. New content starts as StatusDraft.
const (
	StatusDraft     Status = "DRAFT"
	StatusPublished Status = "PUBLISHED"
)

// FrameworkKind tells a framework from a programming language.
type FrameworkKind string

// The kinds of Framework.
const (
	KindFramework FrameworkKind = "FRAMEWORK"
	KindLanguage  FrameworkKind = "LANGUAGE"
)

// Category classifies a trend.
type Category string

// The trend categories.
const (
	CategoryArchitecture Category = "ARCHITECTURE" // a way to build or run a backend (BaaS, serverless…)
	CategoryFramework    Category = "FRAMEWORK"    // a backend framework
	CategoryLanguage     Category = "LANGUAGE"     // a programming language
	CategoryTooling      Category = "TOOLING"      // tools developers use (static site generators…)
	CategoryAPI          Category = "API"          // API styles and technologies
)
