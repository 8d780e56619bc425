// The client matrix: real GraphQL client libraries, unmodified and with
// their default settings, against the trendql server at TRENDQL_URL
// (seeded; TRENDQL_EDITOR_TOKEN is an editor's token). Run by
// graph/clients_test.go; exits non-zero if any check fails.
import assert from 'node:assert/strict';
import { Client as UrqlClient, cacheExchange, fetchExchange, gql as urqlGql } from '@urql/core';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { relayStylePagination } from '@apollo/client/utilities';
import { createHash } from 'node:crypto';
import { createClient as createWSClient } from 'graphql-ws';
import { createClient as createSSEClient } from 'graphql-sse';
import WebSocket from 'ws';

const url = process.env.TRENDQL_URL;
const editor = process.env.TRENDQL_EDITOR_TOKEN;
if (!url || !editor) throw new Error('TRENDQL_URL and TRENDQL_EDITOR_TOKEN must be set');
const auth = { Authorization: `Bearer ${editor}` };
const TIMEOUT = 20000;

// Every request a client makes, as the server saw it asked for.
const seen = [];
const recordingFetch = async (input, init = {}) => {
  const headers = new Headers(init.headers);
  const entry = { method: init.method || 'GET', accept: headers.get('accept') };
  seen.push(entry);
  const res = await fetch(input, init);
  entry.contentType = res.headers.get('content-type');
  return res;
};

// Raw GraphQL over fetch, for the mutations that make the events
// subscriptions wait for.
async function raw(query, variables, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}
// The cursor to subscribe from, so that no subscription misses the event
// made after it starts. Asked with the token the subscriptions use (they
// see drafts), which also keeps it out of the anonymous response cache.
const head = async () => (await raw('{ changesCursor }', {}, auth)).changesCursor;
let made = 0;
const createCompany = async () =>
  (await raw('mutation($n: String!) { createCompany(input: {name: $n}) { id name } }', { n: `Matrix Co ${++made} ${Date.now()}` }, auth))
    .createCompany;

function withTimeout(promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: nothing within ${TIMEOUT} ms`)), TIMEOUT); }),
  ]).finally(() => clearTimeout(timer));
}

const SUBSCRIPTION = `subscription($since: String) { contentChanged(since: $since, types: [COMPANY]) { action itemId node { ... on Company { name } } } }`;

const checks = [];
const check = (name, fn) => checks.push({ name, fn });

// urql, default exchanges: queries go as GET while the URL is short
// ('within-url-limit', urql's default), with urql's default Accept header.
check('urql: GET query (default preferGetMethod)', async () => {
  const client = new UrqlClient({ url, exchanges: [cacheExchange, fetchExchange], fetch: recordingFetch });
  const from = seen.length;
  const r = await client.query(urqlGql`{ trends(first: 3) { nodes { rank name } } }`, {}).toPromise();
  assert.equal(r.error, undefined, String(r.error));
  assert.deepEqual(r.data.trends.nodes.map((n) => n.rank), [1, 2, 3]);
  assert.equal(seen[from].method, 'GET');
  assert.match(seen[from].accept, /text\/event-stream/); // the header that used to break GET
  assert.equal(seen[from].contentType, 'application/graphql-response+json');
});

check('urql: POST query and a request error', async () => {
  const client = new UrqlClient({ url, exchanges: [cacheExchange, fetchExchange], fetch: recordingFetch, preferGetMethod: false });
  const from = seen.length;
  const r = await client.query(urqlGql`query Framework($slug: String!) { framework(slug: $slug) { name kind } }`, { slug: 'go' }).toPromise();
  assert.equal(r.error, undefined, String(r.error));
  assert.deepEqual(r.data.framework, { name: 'Go', kind: 'LANGUAGE', __typename: 'Framework' });
  assert.equal(seen[from].method, 'POST');
  assert.equal(seen[from].contentType, 'application/graphql-response+json'); // not an event stream
  const bad = await client.query(urqlGql`{ trends { nope } }`, {}).toPromise();
  assert.equal(bad.error?.graphQLErrors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED', String(bad.error));
});

check('urql: subscription over fetch (fetchSubscriptions)', async () => {
  const client = new UrqlClient({ url, exchanges: [cacheExchange, fetchExchange], fetchSubscriptions: true, fetchOptions: { headers: auth }, fetch: recordingFetch });
  const since = await head();
  const from = seen.length;
  // The subscription stays open until the script exits: tearing it down
  // mid-stream makes urql's fetch source reject an aborted body read that
  // nothing handles (a client-side matter; the server sees a client leave).
  const event = new Promise((resolve, reject) => {
    client.subscription(urqlGql(SUBSCRIPTION), { since }).subscribe((r) => {
      r.error ? reject(r.error) : resolve(r.data.contentChanged);
    });
  });
  const co = await createCompany();
  const got = await withTimeout(event, 'urql subscription');
  assert.equal(got.itemId, co.id);
  assert.equal(got.action, 'CREATE');
  assert.match(seen[from].contentType, /^text\/event-stream/);
});

function apollo(headers = {}) {
  return new ApolloClient({
    link: new HttpLink({ uri: url, headers, fetch: recordingFetch }),
    cache: new InMemoryCache({ typePolicies: { Query: { fields: { companies: relayStylePagination() } } } }),
  });
}

check('Apollo Client: queries', async () => {
  const client = apollo();
  const r = await client.query({ query: gql`query Article { article { title lastUpdated } trend(slug: "go") { rank name } }` });
  assert.equal(r.error, undefined);
  assert.equal(r.data.article.title, 'Top Backend Development Trends to Follow');
  assert.equal(r.data.trend.rank, 9);
});

check('Apollo Client: a mutation with a token', async () => {
  const client = apollo(auth);
  const r = await client.mutate({
    mutation: gql`mutation Make($n: String!) { createCompany(input: { name: $n }) { id name status } }`,
    variables: { n: 'Apollo Mutation Co' },
  });
  assert.equal(r.error, undefined);
  assert.equal(r.data.createCompany.name, 'Apollo Mutation Co');
  assert.equal(r.data.createCompany.status, 'DRAFT');
  // Without the token the same mutation is refused, as a GraphQL error.
  const anon = apollo();
  await assert.rejects(
    anon.mutate({ mutation: gql`mutation { createCompany(input: { name: "Nope" }) { id } }` }),
    (err) => /UNAUTHENTICATED|FORBIDDEN/.test(JSON.stringify(err.errors ?? err.message)) || /token|permission|role/i.test(err.message),
  );
});

check('Apollo Client: subscription over HttpLink (multipart)', async () => {
  const client = apollo(auth);
  const since = await head();
  const from = seen.length;
  const event = new Promise((resolve, reject) => {
    const sub = client.subscribe({ query: gql(SUBSCRIPTION), variables: { since } }).subscribe({
      next: (r) => { sub.unsubscribe(); r.error ? reject(r.error) : resolve(r.data.contentChanged); },
      error: reject,
    });
  });
  const co = await createCompany();
  const got = await withTimeout(event, 'Apollo multipart subscription');
  assert.equal(got.itemId, co.id);
  assert.equal(got.node.name, co.name);
  assert.match(seen[from].accept, /multipart\/mixed/);
  assert.match(seen[from].contentType, /^multipart\/mixed;boundary="graphql";subscriptionSpec="1.0"/);
});

check('Apollo Client: relayStylePagination over two pages', async () => {
  const client = apollo();
  const query = gql`query Companies($first: Int!, $after: String) {
    companies(first: $first, after: $after) {
      edges { cursor node { id name } }
      pageInfo { hasNextPage endCursor }
    }
  }`;
  const first = await client.query({ query, variables: { first: 3 } });
  assert.equal(first.data.companies.edges.length, 3);
  assert.equal(first.data.companies.pageInfo.hasNextPage, true);
  await client.query({ query, variables: { first: 3, after: first.data.companies.pageInfo.endCursor }, fetchPolicy: 'network-only' });
  const merged = client.readQuery({ query, variables: { first: 3 } });
  const names = merged.companies.edges.map((e) => e.node.name);
  assert.equal(names.length, 6, names.join(', '));
  assert.equal(new Set(names).size, 6, names.join(', '));
  assert.deepEqual(names.slice(0, 3), first.data.companies.edges.map((e) => e.node.name));
  assert.deepEqual([...names].sort((a, b) => a.localeCompare(b)), names); // companies are ordered by name
});

// The README's relayStylePagination recipe: a list page that loads more
// with fetchMore. keyArgs ["filter", "orderBy"] keep one merged list per
// filter and order; first and after only say which page to fetch.
const FRAMEWORKS = gql`query Frameworks($first: Int!, $after: String, $filter: FrameworkFilter, $orderBy: [FrameworkOrder!]) {
  frameworks(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    edges { cursor node { id slug name firstReleased } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const paginatedCache = () => new InMemoryCache({
  typePolicies: { Query: { fields: { frameworks: relayStylePagination(['filter', 'orderBy']) } } },
});

// Loads every page of one list through watchQuery and fetchMore, as a
// "load more" button would, and returns the merged list's nodes and the
// number of requests it took.
async function loadAll(client, variables) {
  const observable = client.watchQuery({ query: FRAMEWORKS, variables });
  // What the watching component renders: its latest complete result, and
  // a wait for one that satisfies a condition.
  let latest;
  let waiter;
  const rendered = (ok) => new Promise((resolve, reject) => {
    waiter = { ok, resolve, reject };
    if (latest && ok(latest)) resolve(latest);
  });
  const sub = observable.subscribe({
    next: (r) => {
      if (r.error) waiter?.reject(r.error);
      if (r.dataState !== 'complete') return;
      latest = r.data.frameworks;
      if (waiter?.ok(latest)) waiter.resolve(latest);
    },
    error: (err) => waiter?.reject(err),
  });
  try {
    let page = await rendered(() => true);
    let requests = 1;
    while (page.pageInfo.hasNextPage) {
      await observable.fetchMore({ variables: { after: page.pageInfo.endCursor } });
      requests++;
      assert.ok(requests <= 50, 'fetchMore never reached the last page');
      page = client.readQuery({ query: FRAMEWORKS, variables }).frameworks;
    }
    // The component re-renders with the whole merged list.
    const shown = await rendered((f) => f.edges.length === page.edges.length);
    assert.deepEqual(shown.edges, page.edges);
    return { nodes: page.edges.map((e) => e.node), requests, pageInfo: page.pageInfo };
  } finally {
    sub.unsubscribe();
  }
}

// The same list in one request, straight from the server.
const allFrameworks = async (filter, orderBy) =>
  (await raw('query($filter: FrameworkFilter, $orderBy: [FrameworkOrder!]) { frameworks(first: 100, filter: $filter, orderBy: $orderBy) { nodes { id slug name firstReleased } } }', { filter, orderBy }))
    .frameworks.nodes.map((n) => ({ __typename: 'Framework', ...n }));

check('Apollo Client: relayStylePagination pages through every framework with fetchMore', async () => {
  const client = new ApolloClient({ link: new HttpLink({ uri: url }), cache: paginatedCache() });
  const want = await allFrameworks();
  assert.ok(want.length >= 6, `the seeded article has 6 frameworks, got ${want.length}`);
  const got = await loadAll(client, { first: 2 });
  assert.equal(got.requests, Math.ceil(want.length / 2));
  assert.deepEqual(got.nodes, want); // every framework, in order
  assert.equal(new Set(got.nodes.map((n) => n.id)).size, got.nodes.length); // none twice
  assert.equal(got.pageInfo.hasNextPage, false);
});

check('Apollo Client: relayStylePagination keeps one list per filter and orderBy', async () => {
  const client = new ApolloClient({ link: new HttpLink({ uri: url }), cache: paginatedCache() });
  const newest = [{ field: 'FIRST_RELEASED', direction: 'DESC' }];
  const languages = { kind: { eq: 'LANGUAGE' } };
  const byName = await loadAll(client, { first: 4 });
  const byYear = await loadAll(client, { first: 4, orderBy: newest });
  const langs = await loadAll(client, { first: 1, filter: languages });
  assert.deepEqual(byName.nodes, await allFrameworks());
  assert.deepEqual(byYear.nodes, await allFrameworks(undefined, newest));
  assert.deepEqual(langs.nodes, await allFrameworks(languages));
  assert.deepEqual(langs.nodes.map((n) => n.slug), ['elixir', 'go']);
  // Loading the others did not touch the first list.
  assert.deepEqual(client.readQuery({ query: FRAMEWORKS, variables: { first: 4 } }).frameworks.edges.map((e) => e.node), byName.nodes);
});

check('Apollo Client: relayStylePagination merges edges, not nodes', async () => {
  const client = new ApolloClient({ link: new HttpLink({ uri: url }), cache: paginatedCache() });
  const query = gql`query FrameworkNodes($after: String) {
    frameworks(first: 3, after: $after) { totalCount nodes { id name } edges { cursor node { id name } } pageInfo { hasNextPage endCursor } }
  }`;
  const first = await client.query({ query });
  await client.query({ query, variables: { after: first.data.frameworks.pageInfo.endCursor }, fetchPolicy: 'network-only' });
  const second = await client.query({ query, variables: { after: first.data.frameworks.pageInfo.endCursor }, fetchPolicy: 'cache-only' });
  const merged = client.readQuery({ query }).frameworks;
  const want = (await allFrameworks()).slice(0, 6).map((n) => n.name);
  assert.deepEqual(merged.edges.map((e) => e.node.name), want); // both pages
  assert.deepEqual(merged.nodes.map((n) => n.name), second.data.frameworks.nodes.map((n) => n.name)); // the last page alone
  assert.deepEqual(merged.nodes.map((n) => n.name), want.slice(3));
  assert.equal(merged.totalCount, (await allFrameworks()).length); // other fields: the last page's value
});

// An unknown hash is a request error (400 under Apollo's preferred
// application/graphql-response+json): the link must still resend the
// query, and the hash alone must work afterwards, over GET.
check('Apollo Client: automatic persisted queries over GET', async () => {
  const link = () => ApolloLink.from([
    new PersistedQueryLink({ sha256: (q) => createHash('sha256').update(q).digest('hex'), useGETForHashedQueries: true }),
    new HttpLink({ uri: url, fetch: recordingFetch }),
  ]);
  const query = gql`query Persisted { trends(first: 2) { nodes { rank } } }`;
  const from = seen.length;
  const first = await new ApolloClient({ link: link(), cache: new InMemoryCache() }).query({ query });
  assert.deepEqual(first.data.trends.nodes.map((n) => n.rank), [1, 2]);
  const calls = seen.slice(from).map((s) => s.method);
  assert.deepEqual(calls, ['GET', 'POST'], JSON.stringify(seen.slice(from))); // hash refused, then hash + query
  const again = await new ApolloClient({ link: link(), cache: new InMemoryCache() }).query({ query });
  assert.deepEqual(again.data, first.data);
  assert.deepEqual(seen.slice(from + 2).map((s) => s.method), ['GET']); // the hash alone now
});

check('graphql-ws: subscription over a websocket', async () => {
  const client = createWSClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: auth, retryAttempts: 0 });
  try {
    const since = await head();
    const iterator = client.iterate({ query: SUBSCRIPTION, variables: { since } });
    const event = iterator.next();
    const co = await createCompany();
    const { value } = await withTimeout(event, 'graphql-ws subscription');
    assert.equal(value.errors, undefined, JSON.stringify(value.errors));
    assert.equal(value.data.contentChanged.itemId, co.id);
    await iterator.return();
  } finally {
    await client.dispose();
  }
});

check('graphql-sse: subscription over SSE', async () => {
  const client = createSSEClient({ url, headers: auth, retryAttempts: 0 });
  try {
    const since = await head();
    const iterator = client.iterate({ query: SUBSCRIPTION, variables: { since } });
    const event = iterator.next();
    const co = await createCompany();
    const { value } = await withTimeout(event, 'graphql-sse subscription');
    assert.equal(value.errors, undefined, JSON.stringify(value.errors));
    assert.equal(value.data.contentChanged.itemId, co.id);
    await iterator.return();
  } finally {
    client.dispose();
  }
});

let failed = 0;
for (const { name, fn } of checks) {
  try {
    await withTimeout(fn(), name);
    console.log(`ok   ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}: ${err?.stack ?? err}`);
  }
}
console.log(`client matrix: ${checks.length - failed} ok, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
