import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { badRequestBody, type ErrorCode } from '../../shared/errors.js';

const PARSE_FAILED: ErrorCode = 'GRAPHQL_PARSE_FAILED';

/**
 * The API.md codes for what fails before a resolver runs, where Yoga leaves gaps: a syntax
 * error over WebSocket (Yoga tags parse errors only for HTTP requests) and an unsupported
 * content type (Yoga answers 415 with an empty body). Validation errors get
 * GRAPHQL_VALIDATION_FAILED from Yoga, query limits from security/armor.ts, malformed bodies
 * BAD_REQUEST from Yoga.
 */
export const useErrorCodes = (): Plugin => ({
  onRequestParse: ({ request, requestParser, endResponse, fetchAPI }) => {
    if (request.method !== 'POST' || requestParser) return;
    endResponse(
      new fetchAPI.Response(badRequestBody('Unsupported content type; send application/json.'), {
        status: 415,
        headers: { 'content-type': 'application/json; charset=utf-8' },
      }),
    );
  },
  onParse:
    () =>
    ({ result }) => {
      if (result instanceof GraphQLError) {
        const extensions = result.extensions as Record<string, unknown>;
        extensions.code ??= PARSE_FAILED;
      }
    },
});
