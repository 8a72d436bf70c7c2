/** The console's calls: its own API (`/api/...`) and the services through its pass-through, with the caller's token. */

export interface Principal {
  actorId: string;
  actorType: string;
  tenantId: string;
  spaceId: string;
  roles: string[];
}

export interface Session {
  principal: Principal;
  admin: boolean;
  domains: string[];
}

/** An error as the API said it: HTTP status, stable code, message (and whatever else it carried). */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'spine-console-token';

export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export type Role = 'command' | 'relay' | 'projector';

async function request<T>(url: string, method: 'GET' | 'POST' = 'GET', body?: unknown): Promise<T> {
  const token = tokenStore.get();
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiFailure(0, 'CONSOLE_UNREACHABLE', `The console did not answer: ${String(error)}`, undefined);
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: kept as text
  }
  if (!res.ok) {
    const error = (parsed ?? {}) as { code?: string; message?: string };
    throw new ApiFailure(
      res.status,
      typeof error.code === 'string' ? error.code : `HTTP_${res.status}`,
      typeof error.message === 'string' ? error.message : typeof parsed === 'string' ? parsed : res.statusText,
      parsed,
    );
  }
  return parsed as T;
}

export const api = {
  console: <T,>(path: string, method: 'GET' | 'POST' = 'GET', body?: unknown) => request<T>(path, method, body),
  service: <T,>(domain: string, role: Role, path: string, method: 'GET' | 'POST' = 'GET', body?: unknown) =>
    request<T>(
      `/api/proxy/${encodeURIComponent(domain)}/${role}?path=${encodeURIComponent(path)}`,
      method,
      method === 'POST' ? (body ?? {}) : undefined,
    ),
};

/** The claims of a JWT, read (not verified: the console's API does that) to say who is signed in. */
export function tokenClaims(token: string): Record<string, unknown> | undefined {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
