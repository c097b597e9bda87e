import type { Plugin } from 'graphql-yoga';
import { UnauthenticatedError, toGraphQLError } from '../errors.js';
import { Access } from './access.js';
import { bearerToken, type Authenticator } from './kubernetes-auth.js';
import type { Subject } from './subject.js';

interface AuthContext {
  request?: Request;
  /** Set by the graphql-ws server after `connection_init` was authenticated. */
  subject?: Subject;
  access?: Access;
}

/**
 * Authenticates every operation: over HTTP from the `Authorization: Bearer` header, over
 * graphql-ws from the subject established at `connection_init`. The context gets an `Access`
 * that resolvers ask (SubjectAccessReview per namespace and verb).
 */
export function useKubernetesAuth(auth: Authenticator): Plugin<AuthContext> {
  return {
    async onContextBuilding({ context, extendContext }) {
      let subject = context.subject;
      if (!subject) {
        const token = bearerToken(context.request?.headers.get('authorization'));
        try {
          if (!token)
            throw new UnauthenticatedError('a bearer token is required (Authorization: Bearer <token>)');
          subject = await auth.authenticate(token);
        } catch (e) {
          throw toGraphQLError(e) ?? e;
        }
      }
      extendContext({ subject, access: new Access(subject, auth) });
    },
  };
}
