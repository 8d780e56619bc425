// The graphql-http package's GraphQL-over-HTTP audit suite against the
// server at TRENDQL_URL. Every audit must be "ok": a failed MUST, SHOULD
// (warn) or MAY (notice) fails the run.
import { serverAudits } from 'graphql-http';

const url = process.env.TRENDQL_URL;
if (!url) throw new Error('TRENDQL_URL is not set');

let failed = 0;
let passed = 0;
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  if (result.status === 'ok') {
    passed++;
    continue;
  }
  failed++;
  let detail = '';
  if (result.response) {
    const body = await result.response.text().catch(() => '');
    detail = ` (got ${result.response.status} ${result.response.headers.get('content-type')}: ${body.slice(0, 300)})`;
  }
  console.log(`${result.status.toUpperCase()} ${result.id} ${result.name}: ${result.reason}${detail}`);
}
console.log(`graphql-http audit: ${passed} ok, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
