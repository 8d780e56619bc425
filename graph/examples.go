package graph

import "github.com/trendql/trendql/graph/playground"

// playgroundExamples are the operations a newcomer finds ready to run in
// the playground's tabs.
var playgroundExamples = []playground.Example{
	{
		Name: "The top 10 trends",
		Query: `query TopTrends {
  trends(first: 10) {
    totalCount
    nodes {
      rank
      name
      category
      summary
      framework { name kind }
    }
  }
}`,
	},
	{
		Name: "One framework and who uses it",
		Query: `query Framework($slug: String!) {
  framework(slug: $slug) {
    name
    kind
    language
    creator
    firstReleased
    architecture
    features
    companies { name slug }
    trends { rank name }
  }
}`,
		Variables: `{"slug": "django"}`,
	},
	{
		Name: "Page through companies",
		Query: `# Run it, then pass pageInfo.endCursor as $after for the next page.
query Companies($after: String) {
  companies(first: 5, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node { name frameworks { name } }
    }
  }
}`,
		Variables: `{"after": null}`,
	},
	{
		Name: "Filter: languages released after 2005",
		Query: `query Languages {
  frameworks(filter: { kind: { eq: LANGUAGE }, firstReleased: { gte: 2005 } }, orderBy: [{ field: FIRST_RELEASED }]) {
    nodes { name firstReleased creator companies { name } }
  }
}`,
	},
	{
		Name: "Search",
		Query: `# Ranked full-text search over every type. The last word matches as a
# prefix while typed; snippets mark matched words with <mark> (HTML-escaped).
query Search($q: String!, $after: String) {
  search(query: $q, first: 5, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      score
      snippet
      node {
        __typename
        ... on Trend { name slug }
        ... on Framework { name slug }
        ... on Company { name slug }
        ... on FAQ { question slug }
      }
    }
  }
}`,
		Variables: `{"q": "garbage coll", "after": null}`,
	},
	{
		Name: "Create a draft (needs an editor token)",
		Query: `# Make a token:  trendql token create --name me --role editor
# and put it in the Headers pane below, then run.
mutation CreateCompany($name: String!) {
  createCompany(input: { name: $name }) {
    id
    slug
    status
    version
  }
}`,
		Variables: `{"name": "Example Co"}`,
		Headers:   `{"Authorization": "Bearer <paste an editor token here>"}`,
	},
	{
		Name: "Swap two trends' ranks (one transaction)",
		Query: `# All the mutations of one request commit together or not at all, and
# unique ranks are checked at the end: so two trends can swap ranks.
# Needs an editor token in the Headers pane. The ids below are the trends
# the article ranks 1 and 2; list yours with { trends { nodes { id rank } } }
mutation SwapRanks($first: ID!, $second: ID!) {
  a: updateTrend(id: $first, input: { rank: 2 }) { name rank }
  b: updateTrend(id: $second, input: { rank: 1 }) { name rank }
}`,
		Variables: `{"first": "VHJlbmQ6MQ", "second": "VHJlbmQ6Mg"}`,
		Headers:   `{"Authorization": "Bearer <paste an editor token here>"}`,
	},
	{
		Name: "The whole article page",
		Query: `query ArticlePage {
  article { id title lastUpdated intro sections { heading body } conclusion }
  faqs { nodes { position question answer items } }
}`,
	},
	{
		Name: "What changed since a cursor",
		Query: `# Pass the cursor of your last run as $since (null: from the start).
query Changes($since: String) {
  changes(since: $since, first: 20) {
    cursor
    hasMore
    changes {
      action
      itemType
      transactionId
      revision { version status at changedFields }
      node { ... on Trend { slug name } ... on Company { slug name } }
    }
  }
}`,
		Variables: `{"since": null}`,
	},
	{
		Name: "Live changes (subscription)",
		Query: `# Runs over a websocket until you stop it; change something in another tab.
# Without a token you see published changes only.
subscription LiveChanges {
  contentChanged {
    action
    itemType
    itemId
    revision { version status changedFields }
  }
}`,
	},
}

func playgroundOptions() []playground.Option {
	return []playground.Option{playground.WithExamples(playgroundExamples)}
}
