// vastdeck's version, for --version and the API client's User-Agent.
export const VERSION = '0.1.0';
