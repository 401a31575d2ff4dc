import { builder } from '../../graphql/builder.js';
import { badRequest } from '../../shared/errors.js';

builder.mutationField('renewConnection', (t) =>
  t.boolean({
    description:
      "Over a WebSocket only: moves the open connection to a refreshed access token of the same session, so it stays open past the old token's expiry. Another session's or an invalid token is FORBIDDEN (the connection keeps its token); over HTTP, BAD_REQUEST.",
    args: { accessToken: t.arg.string({ required: true }) },
    resolve: async (_root, { accessToken }, context) => {
      if (!context.connection) throw badRequest('renewConnection works over a WebSocket only; over HTTP, send the new token in the Authorization header.');
      await context.connection.renew(accessToken);
      return true;
    },
  }),
);
