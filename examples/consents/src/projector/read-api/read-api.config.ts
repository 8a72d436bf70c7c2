export const READ_API_CONFIG = Symbol('READ_API_CONFIG');

export interface ReadApiConfig {
  /** The longest read-your-writes wait a read may ask for. */
  maxWaitMs: number;
}
