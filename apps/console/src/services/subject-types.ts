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
const GENERIC_STATE = /^\/v1\/subjects\/\{subjectType\}\/\{subjectId\}\/state$/;

/**
 * Finds the subject types (the enum of the subject-history route) and, for each, the state route a command service
 * declares with `asOf`: a `GET /v1/<plural>/{param}` whose collection is the subject type's plural (`account` →
 * `/v1/accounts/{id}`, `credit-check` → `/v1/credit-checks/{id}`). A subject type without one is read through the
 * platform's `GET /v1/subjects/{subjectType}/{subjectId}/state` when the service has it: the domain's own route
 * comes first because it answers the domain's view of the subject (an account's balance, not its internal state).
 */
export function subjectTypesFromOpenApi(document: unknown): SubjectTypeView[] {
  const paths = (document as OpenApiDocument).paths ?? {};
  const history = Object.entries(paths).find(([path]) => HISTORY.test(path))?.[1]?.get;
  const param = history?.parameters?.find((p) => p.name === 'subjectType');
  const types = param?.schema?.enum ?? [];
  const genericGet = Object.entries(paths).find(([path]) => GENERIC_STATE.test(path))?.[1]?.get;
  // Its own enum: a subject type no domain model folds (the platform's data subjects) has a history but no state.
  const folded = genericGet?.parameters?.some((p) => p.in === 'query' && p.name === 'asOf')
    ? (genericGet.parameters.find((p) => p.name === 'subjectType')?.schema?.enum ?? [])
    : [];
  const temporal = Object.entries(paths)
    .filter(([, ops]) => ops.get?.parameters?.some((p) => p.in === 'query' && p.name === 'asOf'))
    .map(([path]) => ({ path, match: /^\/v1\/([a-z0-9-]+)\/\{([^}]+)\}$/.exec(path) }))
    .filter((r) => r.match !== null);
  return types.map((subjectType) => {
    const route = temporal.find(
      (r) => r.match![1] === `${subjectType}s` || r.match![1] === `${subjectType}es` || r.match![1] === subjectType,
    );
    const own = route ? route.path.replace(`{${route.match![2]}}`, '{id}') : undefined;
    return {
      subjectType,
      stateRoute:
        own ??
        (folded.includes(subjectType) ? `/v1/subjects/${encodeURIComponent(subjectType)}/{id}/state` : undefined),
    };
  });
}
