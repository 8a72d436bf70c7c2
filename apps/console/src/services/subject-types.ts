/** What the console knows of a subject type from its command service's OpenAPI document alone (no domain code). */
export interface SubjectTypeView {
  subjectType: string;
  /** The subject's pattern if not a UUID, as the document's parameter says. */
  idHint?: string;
  /** GET route answering the subject's state, `{id}` where the subject id goes, taking `?asOf=`. */
  stateRoute?: string;
}

interface OpenApiParameter {
  name: string;
  in: string;
  schema?: { enum?: string[]; pattern?: string };
  description?: string;
}
interface OpenApiDocument {
  paths?: Record<string, Record<string, { parameters?: OpenApiParameter[] }>>;
}

const HISTORY = /^\/v1\/subjects\/\{subjectType\}\/\{subjectId\}\/events$/;

/**
 * Finds the subject types (the enum of the subject-history route) and, for each, the state route a command service
 * declares with `asOf`: a `GET /v1/<plural>/{param}` whose collection is the subject type's plural (`account` →
 * `/v1/accounts/{id}`, `credit-check` → `/v1/credit-checks/{id}`).
 */
export function subjectTypesFromOpenApi(document: unknown): SubjectTypeView[] {
  const paths = (document as OpenApiDocument).paths ?? {};
  const history = Object.entries(paths).find(([path]) => HISTORY.test(path))?.[1]?.get;
  const param = history?.parameters?.find((p) => p.name === 'subjectType');
  const types = param?.schema?.enum ?? [];
  const temporal = Object.entries(paths)
    .filter(([, ops]) => ops.get?.parameters?.some((p) => p.in === 'query' && p.name === 'asOf'))
    .map(([path]) => ({ path, match: /^\/v1\/([a-z0-9-]+)\/\{([^}]+)\}$/.exec(path) }))
    .filter((r) => r.match !== null);
  return types.map((subjectType) => {
    const route = temporal.find(
      (r) => r.match![1] === `${subjectType}s` || r.match![1] === `${subjectType}es` || r.match![1] === subjectType,
    );
    return {
      subjectType,
      stateRoute: route ? route.path.replace(`{${route.match![2]}}`, '{id}') : undefined,
    };
  });
}
