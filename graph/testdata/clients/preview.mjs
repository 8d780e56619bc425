// The README's preview-page recipe, run for real: one page component, two
// Apollo clients — the live one (no token: what every visitor and the CDN
// get) and the preview one (a token and `X-Trendql-Preview: true`, used
// only on the server, for editors) — against the trendql server at
// TRENDQL_URL (seeded; TRENDQL_EDITOR_TOKEN is an editor's token).
// Run by graph/clients_test.go; exits non-zero if any check fails.
import assert from 'node:assert/strict';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';

const url = process.env.TRENDQL_URL;
const editor = process.env.TRENDQL_EDITOR_TOKEN;
if (!url || !editor) throw new Error('TRENDQL_URL and TRENDQL_EDITOR_TOKEN must be set');

// --- the recipe (README: "A preview page") ---------------------------------
const live = new ApolloClient({
  link: new HttpLink({ uri: url }),
  cache: new InMemoryCache(),
});
const preview = new ApolloClient({
  link: new HttpLink({
    uri: url,
    headers: { Authorization: `Bearer ${editor}`, 'X-Trendql-Preview': 'true' },
  }),
  cache: new InMemoryCache(),
  defaultOptions: { query: { fetchPolicy: 'no-cache' } }, // a preview is always fresh
});

const TREND_PAGE = gql`
  query TrendPage($slug: String!) {
    trend(slug: $slug) {
      id
      name
      summary
      companies { id name }
    }
  }
`;

// The same page for both: only the client differs.
async function renderTrendPage(client, slug) {
  const { data } = await client.query({ query: TREND_PAGE, variables: { slug } });
  if (!data.trend) return '<h1>Not found</h1>';
  const t = data.trend;
  return `<h1>${t.name}</h1><p>${t.summary}</p><ul>${t.companies.map((c) => `<li>${c.name}</li>`).join('')}</ul>`;
}
// ----------------------------------------------------------------------------

async function raw(query, variables) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${editor}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

const slug = 'serverless-computing';
const before = await renderTrendPage(live, slug);
const { trend } = await raw('query($s: String!) { trend(slug: $s) { id summary } }', { s: slug });
const edit = `Preview recipe edit ${Date.now()}`;
const updated = await raw(
  'mutation($id: ID!, $s: String!) { updateTrend(id: $id, input: {summary: $s}) { summary hasUnpublishedChanges } }',
  { id: trend.id, s: edit },
);
assert.equal(updated.updateTrend.summary, edit, 'the mutation answers with the draft');
assert.equal(updated.updateTrend.hasUnpublishedChanges, true);

// Editors see the draft in the preview; visitors still get the live page.
const previewed = await renderTrendPage(preview, slug);
assert.ok(previewed.includes(edit), `the preview page shows the draft: ${previewed}`);
const still = await renderTrendPage(new ApolloClient({ link: new HttpLink({ uri: url }), cache: new InMemoryCache() }), slug);
assert.equal(still, before, 'the live page does not show the draft');

// Without a token the preview switch is refused, never served as live.
const refused = await fetch(url, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', 'X-Trendql-Preview': 'true' },
  body: JSON.stringify({ query: '{ trends(first: 1) { totalCount } }' }),
});
assert.equal(refused.status, 401);
assert.equal((await refused.json()).errors[0].extensions.code, 'UNAUTHENTICATED');

// Publish: the live page shows it (a fresh client: a CDN or ISR revalidation).
await raw('mutation($id: ID!) { publish(id: $id) { id } }', { id: trend.id });
const after = await renderTrendPage(new ApolloClient({ link: new HttpLink({ uri: url }), cache: new InMemoryCache() }), slug);
assert.ok(after.includes(edit), `after publish the live page shows the edit: ${after}`);
console.log('preview recipe: ok');
