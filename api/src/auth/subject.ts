/** Who is calling, as the apiserver's TokenReview says. */
export interface Subject {
  username: string;
  uid: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/** One SubjectAccessReview question. */
export interface AccessRequest {
  namespace?: string;
  verb: 'get' | 'list' | 'watch' | 'create' | 'delete' | 'patch' | 'update';
  resource: 'devices' | 'audiojobs';
  group?: string;
}
