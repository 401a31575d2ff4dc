import autocannon from 'autocannon';
import { PhaseCounter, type Measurement } from './latency.js';

type Client = autocannon.Client;
type Request = autocannon.Request;

export interface HttpLoad {
  name: string;
  port: number;
  connections: number;
  seconds: number;
  /** Requests per second over all connections; unset: each connection sends as fast as answers come. */
  overallRate?: number;
  /** Per connection (index `i`): the requests it sends in a loop, with their response handlers. */
  requestsFor(i: number, counter: PhaseCounter): Request[];
}

/** A body that is a GraphQL error (GraphQL over HTTP answers many errors with 200). */
export const graphqlErrorIn = (body: string): string | null => (body.includes('"errors"') ? body : null);

/**
 * Runs autocannon against 127.0.0.1 and counts what came back right. Latency is timed per
 * response from autocannon's own high-resolution clock (its histogram rounds to whole ms).
 */
export async function runHttpLoad(load: HttpLoad): Promise<Measurement> {
  const counter = new PhaseCounter();
  let next = 0;
  const setupClient = (client: Client) => {
    client.setRequests(load.requestsFor(next++, counter));
    client.on('response', (status: number, _bytes: number, responseTime: number) => {
      if (status >= 200 && status < 300) counter.latency.record(responseTime);
      else counter.fail(`HTTP ${status}`);
    });
  };
  const result = await autocannon({
    url: `http://127.0.0.1:${load.port}/graphql`,
    connections: load.connections,
    duration: load.seconds,
    ...(load.overallRate ? { overallRate: load.overallRate } : {}),
    setupClient,
  });
  for (let i = 0; i < result.errors; i++) counter.fail('connection error or timeout');
  // Operations are what the response handlers counted as right.
  return counter.finish(load.name, result.duration);
}

/** A POST of one fixed GraphQL operation whose 2xx answers count when their body has no errors. */
export function fixedGraphQLRequest(body: string, counter: PhaseCounter, headers: Record<string, string> = {}): Request {
  return {
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    onResponse: (status: number, responseBody: string) => {
      if (status < 200 || status >= 300) return;
      const error = graphqlErrorIn(responseBody);
      if (error) counter.fail(error);
      else counter.ops += 1;
    },
  };
}
